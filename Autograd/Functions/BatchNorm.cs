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
        var inputs = new List<Variable> { x };
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        return Tape.Record(relu ? "batch_norm_relu" : "batch_norm", y, inputs.ToArray(), dy =>
        {
            var (dx, dweight, dbias) = Ops.BatchNormBackward(x.Data, dy, weight?.Data, saved, relu ? y : null);
            var grads = new List<Tensor?> { dx };
            if (weight != null) grads.Add(dweight);
            if (bias != null) grads.Add(dbias);
            return grads.ToArray();
        });
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
        var inputs = new List<Variable> { x, residual };
        if (weight != null) inputs.Add(weight);
        if (bias != null) inputs.Add(bias);
        return Tape.Record("batch_norm_add_relu", y, inputs.ToArray(), dy =>
        {
            // The ReLU's gate is the output, as in the fused batch_norm_relu; the shortcut gets the gated gradient.
            var (dx, dweight, dbias) = Ops.BatchNormBackward(x.Data, dy, weight?.Data, saved, y);
            var grads = new List<Tensor?> { dx, Ops.ReluBackward(dy, y) };
            if (weight != null) grads.Add(dweight);
            if (bias != null) grads.Add(dbias);
            return grads.ToArray();
        });
    }
}
