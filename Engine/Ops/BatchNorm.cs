namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>The statistics a batch-norm forward used, which its backward needs.</summary>
    public sealed record BatchNormSaved(Tensor Mean, Tensor InvStd, bool BatchStatistics);

    /// <summary>
    /// Batch norm over [N, C, ...]. In training mode it normalises with the batch mean and biased variance
    /// and updates the running statistics in place (momentum-weighted, unbiased variance), as
    /// torch.nn.BatchNorm2d; in eval mode it uses the running statistics. With <paramref name="relu"/> the output
    /// is ReLU(batch norm) in the same pass, bitwise what a separate ReLU gives.
    /// </summary>
    public static (Tensor Y, BatchNormSaved Saved) BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias,
        bool training, double momentum = 0.1, double eps = 1e-5, bool relu = false)
    {
        using var _ = OpProfiler.Scope(OpFamily.BatchNorm);
        if (x.Rank < 2) throw new ShapeException($"batch_norm: input {x.ShapeString} needs shape [N, C, ...]");
        int channels = x.Shape[1];
        foreach (var (t, name) in new[] { (runningMean, "running_mean"), (runningVar, "running_var"), (weight, "weight"), (bias, "bias") })
        {
            if (t == null) continue;
            CheckPair("batch_norm", x, t);
            if (t.Rank != 1 || t.Shape[0] != channels)
                throw new ShapeException($"batch_norm: {name} {t.ShapeString} does not match input {x.ShapeString}");
        }
        var x3 = x.Contiguous().Reshape(x.Shape[0], channels, -1);
        long perChannel = (long)x3.Shape[0] * x3.Shape[2];
        Tensor mean, variance;
        if (training)
        {
            if (perChannel <= 1) throw new ShapeException($"batch_norm: training needs more than one value per channel, input {x.ShapeString}");
            mean = x.NewEmpty(channels);
            variance = x.NewEmpty(channels);
            x.Accelerator.Kernels.BatchNormStats(x3, mean, variance);
            if (runningMean != null) runningMean.CopyFrom(Add(MulScalar(runningMean, 1 - momentum), MulScalar(mean, momentum)));
            if (runningVar != null)
                runningVar.CopyFrom(Add(MulScalar(runningVar, 1 - momentum), MulScalar(variance, momentum * perChannel / (perChannel - 1))));
        }
        else
        {
            mean = runningMean ?? throw new ShapeException($"batch_norm: eval mode needs running statistics for input {x.ShapeString}");
            variance = runningVar ?? throw new ShapeException($"batch_norm: eval mode needs running statistics for input {x.ShapeString}");
        }
        var invStd = PowScalar(AddScalar(variance, eps), -0.5);
        // In eval mode the running mean may change before backward (a later training step), so keep a copy.
        var saved = new BatchNormSaved(training ? mean : mean.Clone(), invStd, training);
        return (BatchNormApply(x3, saved, weight, bias, relu).Reshape(x.Shape), saved);
    }

    /// <summary>
    /// The normalisation step of <see cref="BatchNorm"/> with statistics it saved: the same output again, bit for bit,
    /// without touching the running statistics (a backward that recomputes the forward's output instead of keeping it).
    /// </summary>
    public static Tensor BatchNormApply(Tensor x, BatchNormSaved saved, Tensor? weight, Tensor? bias, bool relu)
    {
        using var _ = OpProfiler.Scope(OpFamily.BatchNorm);
        var x3 = x.Contiguous().Reshape(x.Shape[0], x.Shape[1], -1);
        var y = x.NewEmpty(x3.Shape);
        x.Accelerator.Kernels.BatchNormForward(x3, saved.Mean, saved.InvStd, weight, bias, y, relu);
        return y.Reshape(x.Shape);
    }

    /// <summary>dx, dweight and dbias of <see cref="BatchNorm"/>; <paramref name="reluOutput"/> is the fused forward's output (null when not fused).</summary>
    public static (Tensor Dx, Tensor Dweight, Tensor Dbias) BatchNormBackward(Tensor x, Tensor dy, Tensor? weight, BatchNormSaved saved, Tensor? reluOutput = null)
    {
        using var _ = OpProfiler.Scope(OpFamily.BatchNorm);
        CheckPair("batch_norm_backward", x, dy);
        if (!x.Shape.SequenceEqual(dy.Shape)) throw new ShapeException($"batch_norm_backward: input {x.ShapeString} and gradient {dy.ShapeString} differ");
        int channels = x.Shape[1];
        var x3 = x.Contiguous().Reshape(x.Shape[0], channels, -1);
        var dx = x.NewEmpty(x3.Shape);
        var dweight = x.NewEmpty(channels);
        var dbias = x.NewEmpty(channels);
        if (reluOutput != null) CheckPair("batch_norm_backward", x, reluOutput);
        x.Accelerator.Kernels.BatchNormBackward(x3, dy.Contiguous().Reshape(x3.Shape), saved.Mean, saved.InvStd, weight, saved.BatchStatistics, dx, dweight, dbias,
            reluOutput?.Contiguous().Reshape(x3.Shape));
        return (dx.Reshape(x.Shape), dweight, dbias);
    }
}
