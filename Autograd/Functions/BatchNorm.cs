using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>
    /// torch.nn.functional.batch_norm: in training mode, batch statistics and an in-place update of the
    /// running statistics; in eval mode, the running statistics (then the input gradient is dy·w·invstd).
    /// With <paramref name="relu"/>, F.Relu(F.BatchNorm(...)) in one op: one pass and one tensor fewer each way, same bits.
    /// </summary>
    public static Variable BatchNorm(Variable x, Tensor? runningMean, Tensor? runningVar, Variable? weight, Variable? bias,
        bool training, double momentum = 0.1, double eps = 1e-5, bool relu = false)
    {
        var (y, saved) = Ops.BatchNorm(x.Data, runningMean, runningVar, weight?.Data, bias?.Data, training, momentum, eps, relu);
        return RecordBatchNorm(relu ? "batch_norm_relu" : "batch_norm", y, saved, x, null, weight, bias, relu ? y : null);
    }

    /// <summary>
    /// F.AddRelu(F.BatchNorm(x, ...), residual) as one op, a ResNet block's last norm with its shortcut: the normalised
    /// tensor is a temporary that goes back to the pool at once instead of an activation held until backward (PyTorch's
    /// blocks add and ReLU in place for the same reason); same bits as the two ops.
    /// </summary>
    public static Variable BatchNormAddRelu(Variable x, Variable residual, Tensor? runningMean, Tensor? runningVar, Variable? weight, Variable? bias,
        bool training, double momentum = 0.1, double eps = 1e-5)
    {
        if (!residual.Shape.SequenceEqual(x.Shape))
            throw new ShapeException($"batch_norm_add_relu: residual {residual.ShapeString} does not match input {x.ShapeString}");
        var (normalised, saved) = Ops.BatchNorm(x.Data, runningMean, runningVar, weight?.Data, bias?.Data, training, momentum, eps);
        var y = Ops.AddRelu(normalised, residual.Data);
        if (TensorScope.Current is { } scope && scope.Owns(normalised)) scope.Release(normalised);
        return RecordBatchNorm("batch_norm_add_relu", y, saved, x, residual, weight, bias, y);
    }

    /// <summary>
    /// Records a batch-norm op with inputs x, the residual, weight and bias (those given): its backward is
    /// <see cref="Ops.BatchNormBackward"/> gated by <paramref name="reluOutput"/> (the fused ReLU's output, or null), and a
    /// residual, summed before the ReLU, gets the gated gradient.
    /// </summary>
    private static Variable RecordBatchNorm(string op, Tensor y, Ops.BatchNormSaved saved, Variable x, Variable? residual, Variable? weight, Variable? bias,
        Tensor? reluOutput)
    {
        var inputs = new List<Variable> { x };
        if (residual != null) inputs.Add(residual);
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        return Tape.Record(op, y, inputs.ToArray(), dy =>
        {
            var (dx, dweight, dbias) = Ops.BatchNormBackward(x.Data, dy, weight?.Data, saved, reluOutput);
            var grads = new List<Tensor?> { dx };
            if (residual != null) grads.Add(Ops.ReluBackward(dy, reluOutput!));
            if (weight != null) grads.Add(dweight);
            if (bias != null) grads.Add(dbias);
            return grads.ToArray();
        });
    }
}
