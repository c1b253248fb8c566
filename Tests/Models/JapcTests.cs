using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

/// <summary>JAPC (METHODS §4): calibration gradients, the identities it must keep, the loss and its schedule.</summary>
public class JapcTests
{
    /// <summary>A [1, 1, size, size] mask whose foreground is the square [r0, r1) × [c0, c1).</summary>
    internal static Tensor Square(int size, int r0, int r1, int c0, int c1, DType dtype = DType.Float32)
    {
        var m = new double[size * size];
        for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++) m[r * size + c] = 1;
        return Tensor.FromArray(m, [1, 1, size, size]).To(dtype);
    }

    internal static IndexTensor Label(Tensor mask) =>
        new(Array.ConvertAll(mask.ToDoubleArray(), v => v > 0.5 ? 1 : 0), [1, mask.Shape[2], mask.Shape[3]]);

    /// <summary>Three raters on 64 × 64: a 32 × 32 square (one 4 × 4 feature cell fully fg at stride 8), one grown and one shrunk by 2 px.</summary>
    private static Tensor[] RaterMasks64() =>
        [Square(64, 0, 32, 0, 32, DType.Float64), Square(64, 0, 34, 0, 34, DType.Float64), Square(64, 0, 30, 2, 32, DType.Float64)];

    internal static FewShotEncoder TinyEncoder(ulong seed, DType dtype = DType.Float32, int features = 16) =>
        new(new ResNetConfig([1, 1, 1, 1], [false, true, true], 1 / 16.0), FeatureHead.Reduce, new Generator(seed), features: features, dtype: dtype);

    /// <summary>On 32 × 32 inputs the features are 4 × 4, so the ALP windows shrink to fit (2 × 2 in training, 1 × 1 at test).</summary>
    internal static readonly AlpConfig TinyAlp = new(TrainWindow: 2, TestWindow: 1, FgCheckWindow: 2);

    private static JapcSegmenter TinySegmenter(JapcForm form, ulong seed = 1, DType dtype = DType.Float32) =>
        new(TinyEncoder(seed, dtype), TinyAlp, new JapcConfig(form, UnitCalibration: form == JapcForm.RaterAttention), new Generator(seed + 100));

    /// <summary>A tiny episode: 32 × 32 images and three raters' 16 × 16-ish squares (grown, shrunk, shifted).</summary>
    private static (Tensor Support, Tensor[] SupportMasks, Tensor Query, Tensor[] QueryMasks) TinyEpisode()
    {
        var g = new Generator(42);
        var support = Tensor.Normal([1, 3, 32, 32], g);
        var query = Tensor.Normal([1, 3, 32, 32], g);
        Tensor[] supportMasks = [Square(32, 0, 16, 0, 16, DType.Float32), Square(32, 0, 18, 0, 18, DType.Float32), Square(32, 0, 16, 2, 18, DType.Float32)];
        Tensor[] queryMasks = [Square(32, 2, 18, 2, 18, DType.Float32), Square(32, 2, 20, 2, 20, DType.Float32), Square(32, 2, 18, 4, 20, DType.Float32)];
        return (support, supportMasks, query, queryMasks);
    }

    private static EpisodeLoss TinyLoss(JapcSegmenter model)
    {
        var (support, supportMasks, query, queryMasks) = TinyEpisode();
        return model.Loss(support, supportMasks, supportMasks.Select(Label).ToList(), query, queryMasks.Select(Label).ToList());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CalibrationGradientsPassTheCheck(bool gated)
    {
        // Prototypes of three raters (2, 3 and 1 rows), the consensus, W_q, W_k (and γ, away from 0 so W gets a gradient).
        var g = new Generator(3);
        var inputs = new List<Tensor>
        {
            Tensor.Normal([2, 5], g, dtype: DType.Float64), Tensor.Normal([3, 5], g, dtype: DType.Float64), Tensor.Normal([1, 5], g, dtype: DType.Float64),
            Tensor.Normal([1, 5], g, dtype: DType.Float64), Tensor.Normal([5, 5], g, dtype: DType.Float64), Tensor.Normal([5, 5], g, dtype: DType.Float64),
        };
        if (gated) inputs.Add(Tensor.FromArray([0.3], [1]));
        var result = GradCheck.Check(v => F.Concat(JapcCalibration.Calibrate([v[0], v[1], v[2]], v[3], v[4], v[5], gated ? v[6] : null), 0), [.. inputs]);
        Assert.True(result.Passed, result.Message);
    }

    [Theory]
    [InlineData(JapcForm.Attention)]
    [InlineData(JapcForm.GatedResidual)]
    public void HeadGradientsThroughFeaturesPassTheCheck(JapcForm form)
    {
        // The whole calibrated head (per-rater prototypes, consensus, attention, scores) w.r.t. support and query
        // features; the encoder only sizes the calibration (6 channels) and does not run.
        var model = new JapcSegmenter(TinyEncoder(1, DType.Float64, features: 6), AlpConfig.Default, new JapcConfig(form), new Generator(5));
        if (model.Calibration.Gamma is { } gamma) gamma.Data.CopyFrom(Tensor.FromArray([0.4], [1]));
        var masks = RaterMasks64();
        var g = new Generator(4);
        var result = GradCheck.Check(v => F.Concat(model.Logits(v[0], masks, v[1]), 0),
            [Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64), Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64)]);
        Assert.True(result.Passed, result.Message);
    }

    [Fact]
    public void IdenticalRatersGiveIdenticalDeviationsAndPredictions()
    {
        var model = new JapcSegmenter(TinyEncoder(1, DType.Float64, features: 6), AlpConfig.Default, JapcConfig.Default, new Generator(5));
        var g = new Generator(7);
        var fs = new Variable(Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64));
        var fq = new Variable(Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64));
        var head = model.Baseline.Head;

        // A small fg (no fully covered cell) has one prototype, the global one, which is its own consensus: Δ = 0
        // exactly, and the calibration returns it unchanged (uniform attention over identical values).
        var small = Square(64, 8, 20, 8, 20, DType.Float64);
        var (smallFg, _) = AlpHead.Grids(small, 8, 8);
        var p = head.Foreground(fs, smallFg, training: true).Prototypes;
        Assert.Equal(1, p.Shape[0]);
        var consensus = F.Mean(head.Foreground(fs, smallFg, training: true).Prototypes, [0], keepDim: true);
        Assert.All(JapcCalibration.Deviations([p, p, p], consensus).Data.ToArray<double>(), d => Assert.Equal(0.0, d));
        var calibrated = model.Calibration.Forward([p, p, p], consensus, [[-1], [-1], [-1]]);
        foreach (var c in calibrated) AssertClose(p.Data.ToArray<double>(), c.Data.ToArray<double>());

        // With several prototypes per class the deviations from the (mean) consensus are not zero, but they are
        // the same for every rater, and so are the calibrated predictions.
        var big = RaterMasks64()[0];
        var (bigFg, bigBg) = AlpHead.Grids(big, 8, 8);
        var bg = head.Background(fs, bigBg, training: true).Prototypes;
        var bgConsensus = F.Mean(bg, [0], keepDim: true);
        var deviations = JapcCalibration.Deviations([bg, bg, bg], bgConsensus).Data.ToArray<double>();
        int n = deviations.Length / 3;
        for (int r = 1; r < 3; r++) Assert.Equal(deviations[..n], deviations[(r * n)..((r + 1) * n)]);
        var logits = model.Logits(fs, [big, big, big], fq).Select(l => l.Data.ToArray<double>()).ToList();
        AssertClose(logits[0], logits[1]);
        AssertClose(logits[0], logits[2]);
    }

    [Theory]
    [InlineData(JapcForm.GatedResidual)]
    [InlineData(JapcForm.RaterAttention)]
    public void IdentityFormsPredictAsTheBaselineAtInitialisation(JapcForm form)
    {
        // γ = 0 (gated) or W_o = 0 (rater form) makes P̃ = P exactly, whatever the raters' masks: stage 2 starts from
        // the stage-1 model's predictions.
        var model = TinySegmenter(form);
        model.Eval();
        var (support, masks, query, _) = TinyEpisode();
        var japc = model.Predict(support, masks, query);
        for (int r = 0; r < masks.Length; r++)
            Assert.Equal(model.Baseline.Predict(support, masks[r], query).Data.ToArray<float>(), japc[r].Data.ToArray<float>());
        Tape.Clear();
    }

    [Fact]
    public void AttentionFormMixesRatersAndChangesPredictions()
    {
        // Unlike the public code's sigmoid gate (cancelled by the cosine), P̃ = A V moves the prototypes'
        // directions, so rater predictions differ from the baseline's.
        var model = TinySegmenter(JapcForm.Attention);
        model.Eval();
        var (support, masks, query, _) = TinyEpisode();
        var japc = model.Predict(support, masks, query);
        var baseline = model.Baseline.Predict(support, masks[0], query).Data.ToArray<float>();
        var calibrated = japc[0].Data.ToArray<float>();
        Assert.True(baseline.Zip(calibrated).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
        Tape.Clear();
    }

    [Theory]
    [InlineData(JapcForm.Attention)]
    [InlineData(JapcForm.GatedResidual)]
    public void LossIsFiniteAndReachesTheCalibrationWeights(JapcForm form)
    {
        var model = TinySegmenter(form);
        var loss = TinyLoss(model);
        double total = loss.Total.Item();
        Assert.True(double.IsFinite(total) && double.IsFinite(loss.Query) && double.IsFinite(loss.Align) && double.IsFinite(loss.Calib));
        loss.Total.Backward();
        static double MaxAbs(Variable v) => v.Grad!.ToDoubleArray().Max(Math.Abs);
        Assert.True(MaxAbs(model.Encoder.Parameters().First()) > 0);
        if (form == JapcForm.Attention)
        {
            Assert.True(loss.Calib > 0);
            Assert.True(MaxAbs(model.Calibration.Wq) > 0);
            Assert.True(MaxAbs(model.Calibration.Wk) > 0);
        }
        else
        {
            // At γ = 0 the calibrated prototypes equal the raw ones: no calibration loss, W_q and W_k get exactly
            // zero gradient, and γ gets the signal that opens the gate.
            Assert.Equal(0.0, loss.Calib);
            Assert.True(MaxAbs(model.Calibration.Gamma!) > 0);
            Assert.Equal(0.0, MaxAbs(model.Calibration.Wq));
        }
    }

    [Fact]
    public void GatedFormWithOpenGateReachesWqAndWk()
    {
        var model = TinySegmenter(JapcForm.GatedResidual);
        model.Calibration.Gamma!.Data.CopyFrom(Tensor.FromArray([0.5f], [1]));
        var loss = TinyLoss(model);
        loss.Total.Backward();
        Assert.True(loss.Calib > 0);
        Assert.True(model.Calibration.Wq.Grad!.ToDoubleArray().Max(Math.Abs) > 0);
        Assert.True(model.Calibration.Wk.Grad!.ToDoubleArray().Max(Math.Abs) > 0);
    }

    [Fact]
    public void StageOneIsTheBaselineLossOnRaterZero()
    {
        var model = TinySegmenter(JapcForm.Attention);
        model.Calibrate = false;
        var loss = TinyLoss(model);
        loss.Total.Backward();
        var (support, masks, query, queryMasks) = TinyEpisode();
        var baseline = model.Baseline.Loss(support, masks[0], Label(masks[0]), query, Label(queryMasks[0]));
        Assert.Equal(baseline.Total.Item(), loss.Total.Item());
        Assert.Null(model.Calibration.Wq.Grad);
        Tape.Clear();
    }

    [Fact]
    public void TwoStageScheduleSwitchesAtHalfway()
    {
        var config = JapcConfig.Default;
        Assert.False(config.CalibratesAt(4, 10));
        Assert.True(config.CalibratesAt(5, 10));
        Assert.True((config with { StageOneFraction = 0 }).CalibratesAt(0, 10));
    }

    [Fact]
    public void LossAndGradientsAreDeterministic()
    {
        (double Total, double[] Wq, double[] Conv) Run()
        {
            var model = TinySegmenter(JapcForm.Attention, seed: 9);
            var loss = TinyLoss(model);
            loss.Total.Backward();
            return (loss.Total.Item(), model.Calibration.Wq.Grad!.ToDoubleArray(), model.Encoder.Parameters().First().Grad!.ToDoubleArray());
        }
        var a = Run();
        var b = Run();
        Assert.Equal(a.Total, b.Total);
        Assert.Equal(a.Wq, b.Wq);
        Assert.Equal(a.Conv, b.Conv);
    }

    [Fact]
    public void ConsensusIsTheMeanProbabilityAtLeastHalf()
    {
        // Two raters, three pixels: fg probabilities (0.9, 0.2), (0.5, 0.5), (0.1, 0.3) → means 0.55, 0.5, 0.2.
        static Variable Logits(double[] fgProbability) => new(Tensor.FromArray(
            [.. fgProbability.Select(p => 0.0), .. fgProbability.Select(p => Math.Log(p / (1 - p)))], [1, 2, 1, fgProbability.Length]));
        var consensus = JapcSegmenter.Consensus([Logits([0.9, 0.5, 0.1]), Logits([0.2, 0.5, 0.3])]).ToArray<double>();
        Assert.Equal([1.0, 1.0, 0.0], consensus);
    }

    [Fact]
    public void StateDictIsTheBaselinesPlusJapc()
    {
        var model = TinySegmenter(JapcForm.GatedResidual);
        var names = model.StateDict().Select(kv => kv.Key).ToList();
        var baseline = model.Baseline.StateDict().Select(kv => kv.Key).ToList();
        Assert.Equal([.. baseline, "japc.w_q", "japc.w_k", "japc.gamma"], names);
    }

    [Fact]
    public void RaterFormGradientsPassTheCheck()
    {
        // Three raters' prototypes with slots (cells 0, 2 and the global −1), the consensus, W_q, W_k and a non-zero W_o.
        var g = new Generator(13);
        Tensor N(params int[] shape) => Tensor.Normal(shape, g, dtype: DType.Float64);
        int[][] slots = [[0, -1], [0, 2, -1], [-1]];
        var result = GradCheck.Check(v => F.Concat(JapcCalibration.CalibrateAcrossRaters([v[0], v[1], v[2]], v[3], slots, v[4], v[5], v[6]), 0),
            [N(2, 5), N(3, 5), N(1, 5), N(1, 5), N(5, 5), N(5, 5), N(5, 5)]);
        Assert.True(result.Passed, result.Message);
    }

    [Fact]
    public void RaterFormMixesOnlyVersionsOfTheSamePrototype()
    {
        var g = new Generator(14);
        Tensor N(params int[] shape) => Tensor.Normal(shape, g, dtype: DType.Float64);
        int[][] slots = [[0, -1], [0, 2, -1]];
        var (a, b, consensus, wq, wk, wo) = (N(2, 5), N(3, 5), N(1, 5), N(5, 5), N(5, 5), N(5, 5));
        double[] Calibrated(Tensor second) => F.Concat(JapcCalibration.CalibrateAcrossRaters(
            [new Variable(a), new Variable(second)], new Variable(consensus), slots, new Variable(wq), new Variable(wk), new Variable(wo)), 0).Data.ToArray<double>();
        var before = Calibrated(b);
        // Changing rater 2's cell-2 prototype (its own slot) changes that row only: no other prototype is averaged with it.
        var changed = b.ToArray<double>();
        for (int i = 5; i < 10; i++) changed[i] += 1;
        var after = Calibrated(Tensor.FromArray(changed, [3, 5]));
        for (int row = 0; row < 5; row++)
            if (row == 3) Assert.NotEqual(before[(row * 5)..(row * 5 + 5)], after[(row * 5)..(row * 5 + 5)]);
            else Assert.Equal(before[(row * 5)..(row * 5 + 5)], after[(row * 5)..(row * 5 + 5)]);
    }

    [Fact]
    public void RaterFormsOutputProjectionLearnsFromTheStart()
    {
        // At W_o = 0 there is no calibration loss, but W_o gets a gradient (unlike the joint forms' W_q, W_k under γ = 0).
        var model = TinySegmenter(JapcForm.RaterAttention);
        var loss = TinyLoss(model);
        Assert.Equal(0.0, loss.Calib);
        loss.Total.Backward();
        Assert.True(model.Calibration.Wo!.Grad!.ToDoubleArray().Max(Math.Abs) > 0, "W_o must get a gradient at initialisation");
        // Once W_o moves, W_q and W_k get gradients too.
        model.ZeroGrad();
        model.Calibration.Wo.Data.CopyFrom(Tensor.Normal(model.Calibration.Wo.Shape, new Generator(8), 0, 0.1));
        loss = TinyLoss(model);
        loss.Total.Backward();
        Assert.True(loss.Calib > 0);
        Assert.True(model.Calibration.Wq.Grad!.ToDoubleArray().Max(Math.Abs) > 0);
        Assert.True(model.Calibration.Wk.Grad!.ToDoubleArray().Max(Math.Abs) > 0);
    }

    [Fact]
    public void UnitCalibrationLossIsScaleFreeAndPassesTheGradientCheck()
    {
        var g = new Generator(15);
        var p = Tensor.Normal([3, 5], g, dtype: DType.Float64);
        var calibrated = Tensor.Normal([3, 5], g, dtype: DType.Float64);
        double Loss(Tensor a, Tensor b, bool unit) => JapcSegmenter.CalibrationLoss(new Variable(a), new Variable(b), unit).Item();
        Assert.Equal(Loss(p, calibrated, true), Loss(Ops.MulScalar(p, 0.1), Ops.MulScalar(calibrated, 0.1), true), 12);
        Assert.NotEqual(Loss(p, calibrated, false), Loss(Ops.MulScalar(p, 0.1), Ops.MulScalar(calibrated, 0.1), false), 6);
        var result = GradCheck.Check(v => JapcSegmenter.CalibrationLoss(v[0], v[1], unit: true), [p, calibrated]);
        Assert.True(result.Passed, result.Message);
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]:G17}, got {actual[i]:G17}");
    }
}
