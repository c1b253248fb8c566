namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>
    /// Negative log-likelihood per element for log-probabilities [N, C, ...] and targets [N, ...] (as
    /// torch.nn.functional.nll_loss with reduction='none'); also returns the class weight each element
    /// used (0 where ignored), which weighted means divide by.
    /// </summary>
    public static (Tensor Loss, Tensor UsedWeight) Nll(Tensor logp, IndexTensor target, Tensor? weight, int ignoreIndex)
    {
        var (lp3, classes) = NllShapes(logp, target, weight, ignoreIndex);
        var loss = logp.NewEmpty(target.Shape);
        var used = logp.NewEmpty(target.Shape);
        logp.Accelerator.Kernels.Nll(lp3, target.Data, weight, ignoreIndex, loss, used);
        return (loss, used);
    }

    /// <summary>The gradient of <see cref="Nll"/> with respect to logp, for upstream gradient g [N, ...].</summary>
    public static Tensor NllBackward(Tensor g, Tensor logp, IndexTensor target, Tensor? weight, int ignoreIndex)
    {
        var (lp3, _) = NllShapes(logp, target, weight, ignoreIndex);
        var dlogp = Tensor.Zeros(lp3.Shape, logp.DType, logp.Accelerator);
        logp.Accelerator.Kernels.NllBackward(g.Contiguous(), target.Data, weight, ignoreIndex, dlogp);
        return dlogp.Reshape(logp.Shape);
    }

    private static (Tensor Logp3, int Classes) NllShapes(Tensor logp, IndexTensor target, Tensor? weight, int ignoreIndex)
    {
        if (logp.Rank < 2) throw new ShapeException($"nll_loss: input {logp.ShapeString} needs shape [N, C, ...]");
        int classes = logp.Shape[1];
        var expected = logp.Shape.Where((_, i) => i != 1).ToArray();
        if (!target.Shape.SequenceEqual(expected))
            throw new ShapeException($"nll_loss: target {target.ShapeString} does not match input {logp.ShapeString} (expected {Shape.Format(expected)})");
        if (weight != null)
        {
            CheckPair("nll_loss", logp, weight);
            if (weight.Rank != 1 || weight.Shape[0] != classes)
                throw new ShapeException($"nll_loss: weight {weight.ShapeString} does not match {classes} classes of input {logp.ShapeString}");
        }
        foreach (var t in target.Data)
            if (t != ignoreIndex && (t < 0 || t >= classes))
                throw new ShapeException($"nll_loss: target {t} is out of range for {classes} classes (input {logp.ShapeString}, target {target.ShapeString})");
        return (logp.Contiguous().Reshape(logp.Shape[0], classes, -1), classes);
    }
}
