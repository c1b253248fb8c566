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
        ReleaseTemporary(normalised);
        return RecordBatchNorm("batch_norm_add_relu", y, saved, x, residual, weight, bias, y);
    }

    /// <summary>
    /// F.Conv2d(F.BatchNorm(x, ..., relu: true), convWeight, convBias, ...) as one op, a ResNet block's bn1 → conv2 and
    /// bn2 → conv3. The conv's input a = relu(bn(x)) goes back to the pool at once and backward recomputes it from x
    /// (which the batch norm's backward keeps anyway) with the saved statistics: PyTorch holds a until backward, one
    /// activation per block. Running statistics are updated once, in the forward; same bits as the two ops.
    /// </summary>
    public static Variable BatchNormReluConv2d(Variable x, Tensor? runningMean, Tensor? runningVar, Variable? bnWeight, Variable? bnBias,
        bool training, double momentum, double eps, Variable convWeight, Variable? convBias, int stride = 1, int padding = 0, int dilation = 1)
    {
        var g = Conv2dGeometry.Square(stride, padding, dilation);
        var (a, saved) = Ops.BatchNorm(x.Data, runningMean, runningVar, bnWeight?.Data, bnBias?.Data, training, momentum, eps, relu: true);
        var y = Ops.Conv2d(a, convWeight.Data, convBias?.Data, g);
        ReleaseTemporary(a);
        Variable?[] inputs = [x, bnWeight, bnBias, convWeight, convBias];
        return Tape.Record("batch_norm_relu_conv2d", y, inputs.OfType<Variable>().ToArray(), dy =>
        {
            bool bnGrads = x.RequiresGrad || bnWeight is { RequiresGrad: true } || bnBias is { RequiresGrad: true };
            Tensor? dx = null, dbnWeight = null, dbnBias = null, dconvWeight = null;
            if (bnGrads || convWeight.RequiresGrad)
            {
                // The forward's a went back to the pool; the same bits again from x and the saved statistics.
                var a = Ops.BatchNormApply(x.Data, saved, bnWeight?.Data, bnBias?.Data, relu: true);
                if (convWeight.RequiresGrad) dconvWeight = Ops.Conv2dBackwardWeight(a, dy, convWeight.Shape, g);
                if (bnGrads)
                {
                    // Batch norm's backward makes all three gradients; the tape drops those of inputs that need none.
                    var da = Ops.Conv2dBackwardInput(dy, convWeight.Data, x.Shape, g);
                    (dx, dbnWeight, dbnBias) = Ops.BatchNormBackward(x.Data, da, bnWeight?.Data, saved, reluOutput: a);
                    ReleaseTemporary(da);
                }
                ReleaseTemporary(a);
            }
            var dconvBias = convBias is { RequiresGrad: true } ? Ops.Sum(dy, [0, 2, 3]) : null;
            Tensor?[] grads = [dx, dbnWeight, dbnBias, dconvWeight, dconvBias];
            return grads.Where((_, i) => inputs[i] != null).ToArray();
        });
    }

    /// <summary>Returns a tensor no op keeps to the pool now when the current scope owns it (else the GC takes it).</summary>
    private static void ReleaseTemporary(Tensor t)
    {
        if (TensorScope.Current is { } scope && scope.Owns(t)) scope.Release(t);
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
