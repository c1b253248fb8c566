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
}
