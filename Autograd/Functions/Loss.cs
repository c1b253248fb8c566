using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public enum Reduction
{
    None,
    Mean,
    Sum,
}

public static partial class F
{
    /// <summary>
    /// Negative log-likelihood of log-probabilities [N, C, ...] (torch.nn.functional.nll_loss): per-class
    /// weights, an ignored target value, and a mean weighted by the class weights of the counted elements.
    /// </summary>
    public static Variable NllLoss(Variable logp, IndexTensor target, Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        using var profile = OpProfiler.Scope(OpFamily.Loss);
        var (loss, used) = Ops.Nll(logp.Data, target, weight, ignoreIndex);
        double denominator = reduction == Reduction.Mean ? Ops.Sum(used).Item() : 1;
        var y = reduction switch
        {
            Reduction.None => loss,
            Reduction.Sum => Ops.Sum(loss),
            _ => Ops.MulScalar(Ops.Sum(loss), 1.0 / denominator),
        };
        return Tape.Record("nll_loss", y, [logp], g =>
        {
            using var backwardProfile = OpProfiler.Scope(OpFamily.Loss);
            // The upstream gradient of each element: g itself (none) or the scalar g spread out.
            var perElement = reduction == Reduction.None ? g : Ops.MulScalar(g.Expand(target.Shape), 1.0 / denominator);
            return [Ops.NllBackward(perElement, logp.Data, target, weight, ignoreIndex)];
        });
    }

    /// <summary>Cross-entropy of logits [N, C, ...] against class indices: log-softmax over C, then NLL.</summary>
    public static Variable CrossEntropy(Variable logits, IndexTensor target, Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean) =>
        NllLoss(LogSoftmax(logits, 1), target, weight, ignoreIndex, reduction);

    /// <summary>Mean (or summed) squared error; d/da = 2(a − b)·g/n.</summary>
    public static Variable MseLoss(Variable a, Variable b, Reduction reduction = Reduction.Mean)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new ShapeException($"mse_loss: shapes {a.ShapeString} and {b.ShapeString} differ");
        using var profile = OpProfiler.Scope(OpFamily.Loss);
        var diff = Ops.Sub(a.Data, b.Data);
        var squared = Ops.Mul(diff, diff);
        double scale = reduction == Reduction.Mean ? 1.0 / Math.Max(1, diff.Count) : 1;
        var y = reduction == Reduction.None ? squared : Ops.MulScalar(Ops.Sum(squared), scale);
        return Tape.Record("mse_loss", y, [a, b], g =>
        {
            using var backwardProfile = OpProfiler.Scope(OpFamily.Loss);
            var da = Ops.Mul(reduction == Reduction.None ? g : g.Expand(diff.Shape), Ops.MulScalar(diff, 2 * scale));
            return [da, b.RequiresGrad ? Ops.Neg(da) : null];
        });
    }
}
