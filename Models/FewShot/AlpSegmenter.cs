using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// The loss terms of one episode, for logging. <see cref="Diff"/> is DPL's unweighted L_diff (null for other
/// heads), taken at step <see cref="DiffStep"/>, with the mean squared distances to p0 of the noised and the denoised
/// prototypes; <see cref="Equation15"/> is DPL's prototype alignment (null when not a term); <see cref="Calib"/> is
/// JAPC's calibration term (0 for heads without one).
/// </summary>
public sealed record EpisodeLoss(Variable Total, double Query, double Align)
{
    public double? Diff { get; init; }

    public int? DiffStep { get; init; }

    public double? NoisedDistance { get; init; }

    public double? DenoisedDistance { get; init; }

    public double? Equation15 { get; init; }

    public double Calib { get; init; }
}

/// <summary>
/// The SSL-ALPNet baseline: encoder + ALP head. Support and query go through the encoder in one batch (so
/// batch norm sees both, as the reference does); the query loss is weighted cross-entropy (bg 0.05, fg 1,
/// ignore 255) on logits upsampled to the image, plus PANet's alignment loss (query prediction → query
/// prototypes → segment the support; unweighted CE).
/// </summary>
public sealed class AlpSegmenter : Module
{
    public const int Ignore = 255;

    public AlpSegmenter(FewShotEncoder encoder, AlpConfig config)
    {
        Encoder = RegisterModule("encoder", encoder);
        Head = new AlpHead(config);
    }

    public FewShotEncoder Encoder { get; }

    public AlpHead Head { get; }

    /// <summary>Class weights of the query loss [bg, fg].</summary>
    public double[] QueryClassWeights { get; init; } = [0.05, 1.0];

    public double AlignWeight { get; init; } = 1.0;

    /// <summary>Query logits [1, 2, H, W] (bg, fg) from a support image, its mask [1, 1, H, W] and a query image.</summary>
    public Variable Predict(Tensor supportImage, Tensor supportMask, Tensor queryImage)
    {
        var (fs, fq) = Encoder.EncodePair(supportImage, queryImage);
        var logits = Head.Forward(fs, supportMask, fq, IsTraining);
        return F.Interpolate(logits, queryImage.Shape[2], queryImage.Shape[3], alignCorners: false);
    }

    /// <summary>
    /// The training loss of one episode. Labels are [1, H, W] class indices (0 bg, 1 fg, 255 ignored).
    /// Throws <see cref="EmptyPrototypeSetException"/> when the support yields no prototype.
    /// </summary>
    public EpisodeLoss Loss(Tensor supportImage, Tensor supportMask, IndexTensor supportLabel, Tensor queryImage, IndexTensor queryLabel)
    {
        var (fs, fq) = Encoder.EncodePair(supportImage, queryImage);
        int h = fq.Shape[2], w = fq.Shape[3], height = queryImage.Shape[2], width = queryImage.Shape[3];
        var logits = Head.Forward(fs, supportMask, fq, IsTraining);
        var weight = Tensor.FromArray(QueryClassWeights, [2], supportImage.Accelerator).To(supportImage.DType);
        var queryLoss = F.CrossEntropy(F.Interpolate(logits, height, width, false), queryLabel, weight, Ignore);

        // Alignment: the query's own prediction at feature resolution becomes its mask.
        var predictedFg = Ops.Unary(UnaryOp.Step, Ops.Sub(logits.Data.Narrow(1, 1, 1), logits.Data.Narrow(1, 0, 1)));
        var bg = Head.Background(fq, Ops.AddScalar(Ops.Neg(predictedFg), 1), IsTraining);
        var fg = Head.Foreground(fq, predictedFg, IsTraining);
        var supportLogits = F.Interpolate(AlpHead.Logits(bg, fg, fs), height, width, false);
        var alignLoss = F.CrossEntropy(supportLogits, supportLabel, null, Ignore);

        var total = F.Add(queryLoss, F.MulScalar(alignLoss, AlignWeight));
        return new EpisodeLoss(total, queryLoss.Item(), alignLoss.Item());
    }
}
