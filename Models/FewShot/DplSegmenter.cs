using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// SSL-ALPNet with DPL (METHODS §3): encoder + ALP head, where every prototype set the head builds (per
/// <see cref="DplConfig.Target"/>) is replaced by its DPL-enhanced version before scoring, in training and
/// inference alike. Loss: see <see cref="Loss"/>. Training noise comes from <see cref="NoiseGenerator"/>
/// (owned by the caller, so a run can save and resume it); inference noise from a fresh generator seeded with
/// <see cref="DplConfig.InferenceSeed"/> unless one is passed, so a prediction does not depend on call order.
/// </summary>
public sealed class DplSegmenter : Module
{
    public const int Ignore = AlpSegmenter.Ignore;

    public DplSegmenter(FewShotEncoder encoder, AlpConfig alp, DplConfig dpl, Generator init, Generator noise)
    {
        Encoder = RegisterModule("encoder", encoder);
        var like = encoder.Parameters().First().Data;
        Dpl = RegisterModule("dpl", new DplModule(dpl, encoder.FeatureChannels, init, like.DType, like.Accelerator));
        Head = new AlpHead(alp);
        NoiseGenerator = noise;
    }

    public FewShotEncoder Encoder { get; }

    public DplModule Dpl { get; }

    public AlpHead Head { get; }

    public Generator NoiseGenerator { get; }

    public double[] QueryClassWeights { get; init; } = [0.05, 1.0];

    public double AlignWeight { get; init; } = 1.0;

    /// <summary>Query logits [1, 2, H, W] (bg, fg) from enhanced support prototypes.</summary>
    public Variable Predict(Tensor supportImage, Tensor supportMask, Tensor queryImage, Generator? noise = null) =>
        PredictCore(supportImage, supportMask, queryImage, noise).Logits;

    /// <summary>
    /// Query logits [1, 2, H, W] from the averaged variants and the per-pixel uncertainty [1, 1, H, W]: the
    /// population variance over the K variants of the fg probability (each variant's prototypes scored on
    /// their own). All zero in training mode, where there is one variant.
    /// </summary>
    public (Variable Logits, Tensor Uncertainty) PredictWithUncertainty(Tensor supportImage, Tensor supportMask, Tensor queryImage, Generator? noise = null)
    {
        var (logits, variants, fq) = PredictCore(supportImage, supportMask, queryImage, noise);
        int height = queryImage.Shape[2], width = queryImage.Shape[3];
        var probabilities = variants.Select(sets =>
        {
            var up = Ops.ResizeBilinear(AlpHead.Logits(sets[0], sets[1], fq).Data, height, width, alignCorners: false);
            return Ops.Softmax(up, 1).Narrow(1, 1, 1);
        }).ToArray();
        var mean = Ops.MulScalar(probabilities.Aggregate(Ops.Add), 1.0 / probabilities.Length);
        var squares = probabilities.Select(p => { var d = Ops.Sub(p, mean); return Ops.Mul(d, d); }).Aggregate(Ops.Add);
        return (logits, Ops.MulScalar(squares, 1.0 / probabilities.Length));
    }

    private (Variable Logits, List<AlpHead.ClassPrototypes[]> Variants, Variable Fq) PredictCore(Tensor supportImage, Tensor supportMask, Tensor queryImage, Generator? noise)
    {
        var (fs, fq) = Encoder.EncodePair(supportImage, queryImage);
        var (fgGrid, bgGrid) = AlpHead.Grids(supportMask, fs.Shape[2], fs.Shape[3]);
        var sets = new[] { Head.Background(fs, bgGrid, IsTraining), Head.Foreground(fs, fgGrid, IsTraining) };
        var generator = noise ?? (IsTraining ? NoiseGenerator : new Generator(Dpl.Config.InferenceSeed));
        var (enhanced, result) = EnhanceSets(sets, [false, true], generator, null);
        var logits = F.Interpolate(AlpHead.Logits(enhanced[0], enhanced[1], fq), queryImage.Shape[2], queryImage.Shape[3], alignCorners: false);
        var variants = result.Variants.Select(v => Rebuild(sets, [false, true], v)).ToList();
        return (logits, variants, fq);
    }

    /// <summary>
    /// The training loss of one episode, with the terms <see cref="DplConfig.Loss"/> names: the query CE on enhanced
    /// support prototypes (class-weighted except in the paper's form), PANet alignment on enhanced prototypes of the
    /// query's prediction, eq. 15 between enhanced support and query-label prototypes (weight λ in the added form),
    /// and L_diff. In the first noise law one start step t is drawn per episode and shared by every enhancement in it.
    /// Throws <see cref="EmptyPrototypeSetException"/> when the support yields no prototype.
    /// </summary>
    public EpisodeLoss Loss(Tensor supportImage, Tensor supportMask, IndexTensor supportLabel, Tensor queryImage, IndexTensor queryLabel)
    {
        var (fs, fq) = Encoder.EncodePair(supportImage, queryImage);
        int h = fq.Shape[2], w = fq.Shape[3], height = queryImage.Shape[2], width = queryImage.Shape[3];
        var (fgGrid, bgGrid) = AlpHead.Grids(supportMask, h, w);
        var support = new[] { Head.Background(fs, bgGrid, IsTraining), Head.Foreground(fs, fgGrid, IsTraining) };
        var config = Dpl.Config;
        int? t = IsTraining && !config.MatchedNoise ? 1 + NoiseGenerator.NextInt(config.Steps) : null;
        var weight = config.Loss == DplLoss.Paper ? null : Tensor.FromArray(QueryClassWeights, [2], supportImage.Accelerator).To(supportImage.DType);
        var zero = new Variable(Tensor.Zeros([], fq.DType, fq.Data.Accelerator));
        bool equation15 = config.Loss != DplLoss.Panet, panet = config.Loss is DplLoss.Added or DplLoss.Panet;

        // Eq. 15: support and query-label prototype sets go through DPL as one batch; each class present in the
        // query label is compared by its mean enhanced prototype. Without it, the support's sets alone.
        var sets = new List<AlpHead.ClassPrototypes>(support);
        var foreground = new List<bool> { false, true };
        if (equation15)
        {
            var queryBg = Prototypes.Local(fq, LabelGrid(queryLabel, 0, h, w, fq.Data), IsTraining ? Head.Config.TrainWindow : Head.Config.TestWindow, Head.Config.Threshold);
            if (queryBg != null) { sets.Add(new(queryBg, true)); foreground.Add(false); }
            var queryFgGrid = LabelGrid(queryLabel, 1, h, w, fq.Data);
            if (Ops.Sum(queryFgGrid).Item() > 0) { sets.Add(Head.Foreground(fq, queryFgGrid, IsTraining)); foreground.Add(true); }
        }
        var (enhanced, result) = EnhanceSets(sets, foreground.ToArray(), NoiseGenerator, t);
        var logits = AlpHead.Logits(enhanced[0], enhanced[1], fq);
        var queryLoss = F.CrossEntropy(F.Interpolate(logits, height, width, false), queryLabel, weight, Ignore);
        var prototypeLoss = zero;
        if (equation15)
        {
            var terms = new List<Variable>();
            for (int i = 2; i < enhanced.Length; i++)
            {
                Variable ClassMean(Variable prototypes)
                {
                    var mean = F.Reshape(F.Mean(prototypes, [0]), 1, -1);
                    return config.UnitScale ? Prototypes.Normalize(mean, 1) : mean;
                }
                var gap = F.Sub(ClassMean(enhanced[foreground[i] ? 1 : 0].Prototypes), ClassMean(enhanced[i].Prototypes));
                terms.Add(F.Sum(F.Mul(gap, gap)));
            }
            if (terms.Count > 0) prototypeLoss = F.MulScalar(terms.Aggregate(F.Add), 1.0 / terms.Count);
        }
        var diffLoss = result.DiffusionLoss ?? zero;
        var panetLoss = zero;
        if (panet)
        {
            // PANet: the query's prediction at feature resolution becomes its mask; its enhanced prototypes segment the support.
            var predictedFg = Ops.Unary(UnaryOp.Step, Ops.Sub(logits.Data.Narrow(1, 1, 1), logits.Data.Narrow(1, 0, 1)));
            var query = new[] { Head.Background(fq, Ops.AddScalar(Ops.Neg(predictedFg), 1), IsTraining), Head.Foreground(fq, predictedFg, IsTraining) };
            var (queryEnhanced, queryResult) = EnhanceSets(query, [false, true], NoiseGenerator, t);
            panetLoss = F.CrossEntropy(F.Interpolate(AlpHead.Logits(queryEnhanced[0], queryEnhanced[1], fs), height, width, false), supportLabel, null, Ignore);
            // The first form (PANet alone) averages both enhancements' L_diff; the added form keeps the first batch's, one t per row of metrics.
            if (config.Loss == DplLoss.Panet)
                diffLoss = result.DiffusionLoss == null || queryResult.DiffusionLoss == null ? zero : F.MulScalar(F.Add(result.DiffusionLoss, queryResult.DiffusionLoss), 0.5);
        }

        var alignLoss = panet ? panetLoss : prototypeLoss;
        var total = F.Add(queryLoss, F.MulScalar(alignLoss, AlignWeight));
        if (config.Loss == DplLoss.Added) total = F.Add(total, F.MulScalar(prototypeLoss, config.EquationWeight));
        total = F.Add(total, F.MulScalar(diffLoss, Dpl.DiffusionTermWeight));
        return new EpisodeLoss(total, queryLoss.Item(), alignLoss.Item())
        {
            Diff = diffLoss.Item(), Equation15 = equation15 ? prototypeLoss.Item() : null,
            DiffStep = result.DiffusionStep, NoisedDistance = result.NoisedDistance, DenoisedDistance = result.DenoisedDistance,
        };
    }

    /// <summary>A [1, 1, h, w] grid mask of the pixels whose label is <paramref name="cls"/> (ignored pixels are in no class).</summary>
    private static Tensor LabelGrid(IndexTensor label, int cls, int h, int w, Tensor like)
    {
        var mask = Array.ConvertAll(label.Data, v => v == cls ? 1.0 : 0.0);
        return Prototypes.MaskToGrid(Tensor.FromArray(mask, [1, 1, label.Shape[^2], label.Shape[^1]], like.Accelerator).To(like.DType), h, w);
    }

    /// <summary>
    /// Enhances the selected rows of every set as one batch: all rows (<see cref="DplTarget.All"/>) or only each
    /// foreground set's global prototype, its last row (<see cref="DplTarget.Global"/>).
    /// </summary>
    internal (AlpHead.ClassPrototypes[] Sets, EnhanceResult Result) EnhanceSets(IReadOnlyList<AlpHead.ClassPrototypes> sets, bool[] foreground, Generator generator, int? t)
    {
        var rows = new List<Variable>();
        for (int i = 0; i < sets.Count; i++)
        {
            var (start, count) = Selected(sets[i], foreground[i]);
            if (count > 0) rows.Add(F.Narrow(sets[i].Prototypes, 0, start, count));
        }
        var result = Dpl.Enhance(rows.Count == 1 ? rows[0] : F.Concat(rows, 0), IsTraining, generator, t);
        return (Rebuild(sets, foreground, result.Enhanced), result);
    }

    /// <summary>The sets with their selected rows replaced, in order, by the rows of <paramref name="batch"/>.</summary>
    private AlpHead.ClassPrototypes[] Rebuild(IReadOnlyList<AlpHead.ClassPrototypes> sets, bool[] foreground, Variable batch)
    {
        var result = new AlpHead.ClassPrototypes[sets.Count];
        int offset = 0;
        for (int i = 0; i < sets.Count; i++)
        {
            var (start, count) = Selected(sets[i], foreground[i]);
            var parts = new List<Variable>();
            if (start > 0) parts.Add(F.Narrow(sets[i].Prototypes, 0, 0, start));
            if (count > 0) parts.Add(F.Narrow(batch, 0, offset, count));
            offset += count;
            result[i] = sets[i] with { Prototypes = parts.Count == 1 ? parts[0] : F.Concat(parts, 0) };
        }
        return result;
    }

    private (int Start, int Count) Selected(AlpHead.ClassPrototypes set, bool foreground)
    {
        int m = set.Prototypes.Shape[0];
        if (Dpl.Config.Target == DplTarget.All) return (0, m);
        return foreground ? (m - 1, 1) : (m, 0);
    }
}
