using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using static IlgpuSeg.Tests.Models.JapcTests;

namespace IlgpuSeg.Tests.Models;

/// <summary>DPL + JAPC (METHODS §5): each rater's prototypes enhanced by DPL, then calibrated; losses add.</summary>
public class DplJapcTests
{
    /// <summary>Small sizes in DPL's first forms (the revised defaults run in the trainer's same-seed and resume tests).</summary>
    private static readonly DplConfig Small = DplConfig.First with { Steps = 5, InferenceStart = 3, Variants = 3, EmbeddingDim = 8, Hidden = 10 };

    private static JapcSegmenter TinySegmenter(JapcForm form = JapcForm.Attention, ulong seed = 1) =>
        new(TinyEncoder(seed), TinyAlp, new JapcConfig(form), new Generator(seed + 100), Small, new Generator(seed + 200));

    private static EpisodeLoss TinyLoss(JapcSegmenter model)
    {
        var g = new Generator(42);
        var support = Tensor.Normal([1, 3, 32, 32], g);
        var query = Tensor.Normal([1, 3, 32, 32], g);
        Tensor[] supportMasks = [Square(32, 0, 16, 0, 16), Square(32, 0, 18, 0, 18), Square(32, 0, 16, 2, 18)];
        Tensor[] queryMasks = [Square(32, 2, 18, 2, 18), Square(32, 2, 20, 2, 20), Square(32, 2, 18, 4, 20)];
        return model.Loss(support, supportMasks, supportMasks.Select(Label).ToList(), query, queryMasks.Select(Label).ToList());
    }

    [Fact]
    public void StateDictIsTheBaselinesPlusDplPlusJapc()
    {
        var model = TinySegmenter();
        var names = model.StateDict().Select(kv => kv.Key).ToList();
        var encoder = model.Baseline.StateDict().Select(kv => kv.Key);
        var dpl = model.Enhancer!.Dpl.StateDict().Select(kv => "dpl." + kv.Key);
        Assert.Equal([.. encoder, .. dpl, "japc.w_q", "japc.w_k"], names);
    }

    [Fact]
    public void StageOneIsTheDplLossOnRaterZero()
    {
        var model = TinySegmenter(seed: 3);
        model.Calibrate = false;
        var loss = TinyLoss(model);
        Tape.Clear();
        // A second model with the same seeds: DPL alone on rater 0 draws the same noise.
        var twin = TinySegmenter(seed: 3);
        var g = new Generator(42);
        var support = Tensor.Normal([1, 3, 32, 32], g);
        var query = Tensor.Normal([1, 3, 32, 32], g);
        var sm = Square(32, 0, 16, 0, 16);
        var dpl = twin.Enhancer!.Loss(support, sm, Label(sm), query, Label(Square(32, 2, 18, 2, 18)));
        Assert.Equal(dpl.Total.Item(), loss.Total.Item());
        Assert.Equal(dpl.Diff, loss.Diff);
        Tape.Clear();
    }

    [Theory]
    [InlineData(JapcForm.Attention)]
    [InlineData(JapcForm.GatedResidual)]
    public void StageTwoLossHasEveryTermAndReachesDplAndCalibration(JapcForm form)
    {
        // Seed 2: its untrained query prediction leaves background cells, so the alignment step has prototypes.
        var model = TinySegmenter(form, seed: 2);
        if (model.Calibration.Gamma is { } gamma) gamma.Data.CopyFrom(Tensor.FromArray([0.5f], [1]));
        var loss = TinyLoss(model);
        Assert.True(double.IsFinite(loss.Total.Item()) && double.IsFinite(loss.Query) && double.IsFinite(loss.Align));
        Assert.True(loss.Diff is > 0 and < double.PositiveInfinity);
        Assert.True(loss.Calib > 0);
        // The total is exactly the sum of its weighted terms (w_align = w_calib = 1).
        double expected = loss.Query + loss.Align + loss.Calib + Small.LossWeight * loss.Diff!.Value;
        Assert.True(Math.Abs(loss.Total.Item() - expected) <= 1e-5 * Math.Abs(expected), $"total {loss.Total.Item()} vs terms {expected}");
        loss.Total.Backward();
        foreach (var (name, p) in model.NamedParameters().Where(p => p.Name.StartsWith("dpl.") || p.Name.StartsWith("japc.")))
        {
            Assert.True(p.Grad != null, $"{name} got no gradient");
            Assert.True(p.Grad!.ToDoubleArray().Any(v => v != 0), $"{name}'s gradient is zero");
        }
        Assert.True(model.Encoder.Parameters().All(p => p.Grad != null));
    }

    [Fact]
    public void HeadGradientsThroughFeaturesPassTheCheck()
    {
        // Inference-mode head (K DPL variants from a fixed seed, then calibration, then scores) w.r.t. support and
        // query features in float64; the encoder only sizes the modules (6 channels) and does not run.
        var model = new JapcSegmenter(TinyEncoder(1, DType.Float64, features: 6), AlpConfig.Default, JapcConfig.Default, new Generator(5), Small, new Generator(6));
        model.Eval();
        Tensor[] masks = [Square(64, 0, 32, 0, 32, DType.Float64), Square(64, 0, 34, 0, 34, DType.Float64), Square(64, 0, 30, 2, 32, DType.Float64)];
        var g = new Generator(4);
        model.Enhancer!.Train(true); // as a training Loss would leave it; Logits must bring DPL back to inference mode
        model.Logits(new Variable(Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64)), masks, new Variable(Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64)));
        Assert.False(model.Enhancer.IsTraining);
        var result = GradCheck.Check(v => F.Concat(model.Logits(v[0], masks, v[1]), 0),
            [Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64), Tensor.Normal([1, 6, 8, 8], g, dtype: DType.Float64)]);
        Assert.True(result.Passed, result.Message);
    }

    [Fact]
    public void PredictionIsReproducibleAndDiffersFromJapcAlone()
    {
        var model = TinySegmenter();
        model.Eval();
        var g = new Generator(42);
        var support = Tensor.Normal([1, 3, 32, 32], g);
        var query = Tensor.Normal([1, 3, 32, 32], g);
        Tensor[] masks = [Square(32, 0, 16, 0, 16), Square(32, 0, 18, 0, 18), Square(32, 0, 16, 2, 18)];
        using var _ = Tape.NoGrad();
        var a = model.Predict(support, masks, query).Select(l => l.Data.ToArray<float>()).ToList();
        var b = model.Predict(support, masks, query).Select(l => l.Data.ToArray<float>()).ToList();
        for (int r = 0; r < masks.Length; r++) Assert.Equal(a[r], b[r]);
        // JAPC alone on the same encoder and calibration weights: DPL's enhancement must change the prediction.
        var japc = new JapcSegmenter(model.Encoder, TinyAlp, model.Config, new Generator(101));
        japc.Calibration.LoadStateDict(model.Calibration.StateDict().ToDictionary(), strict: true);
        japc.Eval();
        var plain = japc.Predict(support, masks, query)[0].Data.ToArray<float>();
        Assert.True(plain.Zip(a[0]).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
    }
}
