using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// JAPC on the ALPNet baseline (METHODS §4): one support image with R raters' masks, R query predictions.
/// Per rater the ALP head builds prototypes; each class's prototypes of all raters are calibrated together
/// (<see cref="JapcCalibration"/>) and rater r's query is segmented with its calibrated prototypes by the
/// baseline head. The state dict is the baseline's (encoder.*) plus japc.*, so a stage-1 AlpSegmenter
/// checkpoint loads with strict = false and only japc.* missing.
/// With a <see cref="DplConfig"/> it is DPL + JAPC (METHODS §5): every rater's prototypes (and the consensus
/// prototypes) are first enhanced by DPL as one batch, then calibrated; L adds β·L_diff, stage 1 is plain DPL
/// on rater 0 (with DPL's configured alignment loss), stage 2 aligns per rater the JAPC way (the query's
/// predictions segment the support), and the state dict adds dpl.*.
/// </summary>
public sealed class JapcSegmenter : Module
{
    public JapcSegmenter(FewShotEncoder encoder, AlpConfig alp, JapcConfig config, Generator init, DplConfig? dpl = null, Generator? noise = null)
    {
        Config = config;
        // The baselines share the encoder; they are not registered, so their parameters are not listed twice.
        Baseline = new AlpSegmenter(encoder, alp);
        Encoder = RegisterModule("encoder", encoder);
        if (dpl != null)
        {
            Enhancer = new DplSegmenter(encoder, alp, dpl, init, noise ?? throw new ArgumentNullException(nameof(noise), "DPL + JAPC needs a noise generator"));
            RegisterModule("dpl", Enhancer.Dpl);
        }
        var like = encoder.Parameters().First().Data;
        Calibration = RegisterModule("japc", new JapcCalibration(encoder.FeatureChannels, config.Form, init, like.DType, like.Accelerator));
    }

    public JapcConfig Config { get; }

    /// <summary>The ALPNet baseline on the same encoder: the head, the loss weights and the stage-1 loss.</summary>
    public AlpSegmenter Baseline { get; }

    public FewShotEncoder Encoder { get; }

    public JapcCalibration Calibration { get; }

    /// <summary>DPL on the same encoder when this is DPL + JAPC (its noise generator draws the training noise), else null.</summary>
    public DplSegmenter? Enhancer { get; }

    /// <summary>Stage switch: false = stage 1 (plain ALP on rater 0 in the loss; uncalibrated per-rater predictions).</summary>
    public bool Calibrate { get; set; } = true;

    /// <summary>One logits map [1, 2, H, W] (bg, fg) per rater, from a support image, its raters' masks [1, 1, H, W] and a query image.</summary>
    public IReadOnlyList<Variable> Predict(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage)
    {
        var (fs, fq) = Encode(supportImage, queryImage);
        return Logits(fs, supportMasks, fq).Select(l => F.Interpolate(l, queryImage.Shape[2], queryImage.Shape[3], alignCorners: false)).ToList();
    }

    /// <summary>The head alone: one logits map [1, 2, h, w] per rater at feature resolution, from features and the raters' [1, 1, H, W] masks.</summary>
    public IReadOnlyList<Variable> Logits(Variable supportFeatures, IReadOnlyList<Tensor> supportMasks, Variable queryFeatures)
    {
        var (raters, _, _) = RaterPrototypes(supportFeatures, SupportGrids(supportMasks, supportFeatures), InferenceNoise(), null);
        return raters.Select(p => AlpHead.Logits(p.Bg, p.Fg, queryFeatures)).ToList();
    }

    /// <summary>
    /// Issue 16's check that calibration does not blur ALP's background local prototypes: rater 0's background prototypes
    /// before and after calibration, their count and spread (mean squared distance of the unit-normalised rows to their mean).
    /// </summary>
    public (int Count, double Before, double After) BackgroundSpread(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, Tensor queryImage)
    {
        var (fs, _) = Encode(supportImage, queryImage);
        var grids = SupportGrids(supportMasks, fs);
        bool calibrate = Calibrate;
        try
        {
            Calibrate = false;
            var before = RaterPrototypes(fs, grids, InferenceNoise(), null).Raters[0].Bg.Prototypes;
            Calibrate = true;
            var after = RaterPrototypes(fs, grids, InferenceNoise(), null).Raters[0].Bg.Prototypes;
            return (before.Shape[0], Spread(before), Spread(after));
        }
        finally { Calibrate = calibrate; }
    }

    private static double Spread(Variable prototypes)
    {
        int m = prototypes.Shape[0], d = prototypes.Shape[1];
        var rows = Prototypes.Normalize(prototypes, 1).Data.To(DType.Float64).ToArray<double>();
        var mean = new double[d];
        for (int i = 0; i < m; i++) for (int j = 0; j < d; j++) mean[j] += rows[i * d + j] / m;
        double sum = 0;
        for (int i = 0; i < m; i++) for (int j = 0; j < d; j++) sum += (rows[i * d + j] - mean[j]) * (rows[i * d + j] - mean[j]);
        return sum / m;
    }

    /// <summary>The consensus prediction [1, 1, H, W]: 1 where the mean over raters of the fg probability is ≥ 0.5.</summary>
    public static Tensor Consensus(IReadOnlyList<Variable> raterLogits)
    {
        Tensor? sum = null;
        foreach (var logits in raterLogits)
        {
            var fg = Ops.Softmax(logits.Data, 1).Narrow(1, 1, 1);
            sum = sum == null ? fg : Ops.Add(sum, fg);
        }
        if (sum == null) throw new ArgumentException("consensus: no rater predictions");
        return Ops.Unary(UnaryOp.InRange, Ops.MulScalar(sum, 1.0 / raterLogits.Count), 0.5, double.PositiveInfinity);
    }

    /// <summary>
    /// The training loss of one episode: L = L_seg + L_align + w·L_calib (+ β·L_diff with DPL), with L_seg and
    /// L_align averaged over raters (labels [1, H, W]: 0 bg, 1 fg, 255 ignored; support label and mask of rater r
    /// belong together). With <see cref="Calibrate"/> off it is the baseline's (ALP or DPL) loss on rater 0. Throws
    /// <see cref="EmptyPrototypeSetException"/> when a support or a predicted query yields no prototype.
    /// </summary>
    public EpisodeLoss Loss(Tensor supportImage, IReadOnlyList<Tensor> supportMasks, IReadOnlyList<IndexTensor> supportLabels, Tensor queryImage, IReadOnlyList<IndexTensor> queryLabels)
    {
        int raters = supportMasks.Count;
        if (raters == 0 || supportLabels.Count != raters || queryLabels.Count != raters)
            throw new ArgumentException($"japc loss: {supportMasks.Count} support masks, {supportLabels.Count} support labels and {queryLabels.Count} query labels; need the same number ≥ 1");
        if (!Calibrate)
        {
            if (Enhancer != null)
            {
                Enhancer.Train(IsTraining);
                return Enhancer.Loss(supportImage, supportMasks[0], supportLabels[0], queryImage, queryLabels[0]);
            }
            Baseline.Train(IsTraining);
            return Baseline.Loss(supportImage, supportMasks[0], supportLabels[0], queryImage, queryLabels[0]);
        }

        var (fs, fq) = Encode(supportImage, queryImage);
        int height = queryImage.Shape[2], width = queryImage.Shape[3];
        // DPL's first noise law: one start step per episode, shared by the support's and the query's enhancement.
        var noise = IsTraining ? Enhancer?.NoiseGenerator : InferenceNoise();
        int? t = Enhancer != null && IsTraining && !Enhancer.Dpl.Config.MatchedNoise ? 1 + noise!.NextInt(Enhancer.Dpl.Config.Steps) : null;
        var (support, calib, supportDiff) = RaterPrototypes(fs, SupportGrids(supportMasks, fs), noise, t);
        var logits = support.Select(p => AlpHead.Logits(p.Bg, p.Fg, fq)).ToList();
        var weight = Tensor.FromArray(Baseline.QueryClassWeights, [2], supportImage.Accelerator).To(supportImage.DType);
        var queryLoss = Average(logits.Select((l, r) => F.CrossEntropy(F.Interpolate(l, height, width, false), queryLabels[r], weight, AlpSegmenter.Ignore)));

        // Alignment per rater: rater r's query prediction becomes its query mask; the query prototypes of all
        // raters are calibrated jointly, as the support's are, and segment the support against rater r's label.
        var predicted = logits.Select(l => Ops.Unary(UnaryOp.Step, Ops.Sub(l.Data.Narrow(1, 1, 1), l.Data.Narrow(1, 0, 1)))).ToList();
        var (query, _, queryDiff) = RaterPrototypes(fq, predicted, noise, t);
        var alignLoss = Average(query.Select((p, r) =>
            F.CrossEntropy(F.Interpolate(AlpHead.Logits(p.Bg, p.Fg, fs), height, width, false), supportLabels[r], null, AlpSegmenter.Ignore)));

        var total = F.Add(F.Add(queryLoss, F.MulScalar(alignLoss, Baseline.AlignWeight)), F.MulScalar(calib!, Config.CalibWeight));
        if (Enhancer == null) return new EpisodeLoss(total, queryLoss.Item(), alignLoss.Item()) { Calib = calib!.Item() };
        var diff = supportDiff != null && queryDiff != null ? F.MulScalar(F.Add(supportDiff.DiffusionLoss!, queryDiff.DiffusionLoss!), 0.5)
            : new Variable(Tensor.Zeros([], fq.DType, fq.Data.Accelerator));
        total = F.Add(total, F.MulScalar(diff, Enhancer.Dpl.DiffusionTermWeight));
        return new EpisodeLoss(total, queryLoss.Item(), alignLoss.Item())
        {
            Calib = calib!.Item(), Diff = diff.Item(),
            DiffStep = supportDiff?.DiffusionStep, NoisedDistance = supportDiff?.NoisedDistance, DenoisedDistance = supportDiff?.DenoisedDistance,
        };
    }

    /// <summary>Inference noise for DPL: a fresh generator per prediction, so a prediction does not depend on call order.</summary>
    private Generator? InferenceNoise() => Enhancer == null ? null : new Generator(Enhancer.Dpl.Config.InferenceSeed);

    private (Variable Support, Variable Query) Encode(Tensor supportImage, Tensor queryImage)
    {
        Baseline.Train(IsTraining);
        Enhancer?.Train(IsTraining);
        return Encoder.EncodePair(supportImage, queryImage);
    }

    private static List<Tensor> SupportGrids(IReadOnlyList<Tensor> masks, Variable features) =>
        masks.Select(m => AlpHead.Grids(m, features.Shape[2], features.Shape[3]).Fg).ToList();

    /// <summary>
    /// Each rater's (bg, fg) prototypes from features and its fg mask on the feature grid, DPL-enhanced when this is
    /// DPL + JAPC (that enhancement returned when it has an L_diff, null otherwise or at inference), then calibrated
    /// when <see cref="Calibrate"/> is on, with L_calib = (1/R) Σ_r Σ_c mean((p − p̃)²) (null when off), on unit-normalised
    /// prototypes with <see cref="JapcConfig.UnitCalibration"/>.
    /// </summary>
    private (List<(AlpHead.ClassPrototypes Bg, AlpHead.ClassPrototypes Fg)> Raters, Variable? Calib, EnhanceResult? Diff) RaterPrototypes(
        Variable features, IReadOnlyList<Tensor> fgGrids, Generator? noise, int? t)
    {
        var head = Baseline.Head;
        bool training = IsTraining;
        int window = training ? head.Config.TrainWindow : head.Config.TestWindow;
        // DPL reads its own mode; it is not a registered child (only its dpl.* weights are), so keep it in step.
        Enhancer?.Train(training);
        int raters = fgGrids.Count;
        var sets = new List<AlpHead.ClassPrototypes>();
        for (int r = 0; r < raters; r++)
        {
            sets.Add(head.Background(features, Complement(fgGrids[r]), training));
            sets.Add(head.Foreground(features, fgGrids[r], training));
        }
        if (Calibrate)
        {
            // Consensus mask y⁽⁰⁾ = mean of the rater masks, soft. Resizing is linear, so the mean of the grids is
            // the grid of the mean mask. Φ's background is local only; a soft consensus can leave no cell above the
            // threshold even when every rater has one, and then the masked average of the consensus background stands in.
            var consensusFg = fgGrids[0];
            for (int r = 1; r < raters; r++) consensusFg = Ops.Add(consensusFg, fgGrids[r]);
            consensusFg = Ops.MulScalar(consensusFg, 1.0 / raters);
            var consensusBg = Complement(consensusFg);
            var local = Prototypes.Local(features, consensusBg, window, head.Config.Threshold);
            sets.Add(new(local ?? Prototypes.Global(features, consensusBg), local != null));
            sets.Add(head.Foreground(features, consensusFg, training));
        }
        EnhanceResult? diff = null;
        if (Enhancer != null)
        {
            var (enhanced, enhancement) = Enhancer.EnhanceSets(sets, sets.Select((_, i) => i % 2 == 1).ToArray(), noise!, t);
            sets = enhanced.ToList();
            if (enhancement.DiffusionLoss != null) diff = enhancement;
        }
        var bg = Enumerable.Range(0, raters).Select(r => sets[2 * r]).ToList();
        var fg = Enumerable.Range(0, raters).Select(r => sets[2 * r + 1]).ToList();
        if (!Calibrate) return (bg.Zip(fg).ToList(), null, diff);

        var p0Bg = F.Mean(sets[2 * raters].Prototypes, [0], keepDim: true);
        var p0Fg = F.Mean(sets[2 * raters + 1].Prototypes, [0], keepDim: true);
        // Slots: which prototype each row is, so the rater form attends only over versions of the same one.
        var bgSlots = fgGrids.Select(g => Prototypes.LocalCells(Complement(g), window, head.Config.Threshold)).ToList();
        var fgSlots = fgGrids.Select((g, r) => fg[r].UsesLocal ? [.. Prototypes.LocalCells(g, window, head.Config.Threshold), GlobalSlot] : new[] { GlobalSlot }).ToList();
        var bgCal = Calibration.Forward(bg.Select(p => p.Prototypes).ToList(), p0Bg, bgSlots);
        var fgCal = Calibration.Forward(fg.Select(p => p.Prototypes).ToList(), p0Fg, fgSlots);
        var result = new List<(AlpHead.ClassPrototypes, AlpHead.ClassPrototypes)>();
        var calibTerms = new List<Variable>();
        for (int r = 0; r < raters; r++)
        {
            result.Add((bg[r] with { Prototypes = bgCal[r] }, fg[r] with { Prototypes = fgCal[r] }));
            calibTerms.Add(F.Add(CalibrationLoss(bg[r].Prototypes, bgCal[r], Config.UnitCalibration), CalibrationLoss(fg[r].Prototypes, fgCal[r], Config.UnitCalibration)));
        }
        return (result, Average(calibTerms), diff);
    }

    /// <summary>One class's L_calib term mean((p − p̃)²), on rows scaled to unit norm when <paramref name="unit"/>.</summary>
    public static Variable CalibrationLoss(Variable prototypes, Variable calibrated, bool unit) => unit
        ? F.MseLoss(Prototypes.Normalize(prototypes, 1), Prototypes.Normalize(calibrated, 1)) : F.MseLoss(prototypes, calibrated);

    /// <summary>The slot of a class's global prototype (local cells are 0..cells−1).</summary>
    private const int GlobalSlot = -1;

    private static Tensor Complement(Tensor mask) => Ops.AddScalar(Ops.Neg(mask), 1);

    private static Variable Average(IEnumerable<Variable> terms)
    {
        var list = terms.ToList();
        var sum = list[0];
        for (int i = 1; i < list.Count; i++) sum = F.Add(sum, list[i]);
        return F.MulScalar(sum, 1.0 / list.Count);
    }
}
