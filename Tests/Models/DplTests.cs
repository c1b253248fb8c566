using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

/// <summary>DPL (METHODS §3): the fused reverse step, the schedule, the module's pieces and the segmenter.</summary>
public class DplTests
{
    private static Tensor Randn(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: DType.Float64);

    /// <summary>
    /// A small float64 DPL: D = 6, T = 5, embedding 8, hidden 10, revised forms except the split gradient (which
    /// scales the encoder's share of L_diff's gradient on purpose, so central differences cannot check it; see
    /// <see cref="SplitGradientGivesTheModulesAllOfLDiffAndTheEncoderBeta"/>).
    /// </summary>
    private static readonly DplConfig Small = new(Steps: 5, InferenceStart: 3, Variants: 3, EmbeddingDim: 8, Hidden: 10, SplitDiffusionGradient: false);

    private static DplModule SmallModule(ulong seed = 1) => new(Small, 6, new Generator(seed), DType.Float64);

    private static void Check(Func<Variable[], Variable> f, params Tensor[] inputs)
    {
        var result = GradCheck.Check(f, inputs);
        Assert.True(result.Passed, result.Message);
    }

    /// <summary>
    /// Central differences on a few elements of each parameter against the gradient backward leaves in it.
    /// <paramref name="loss"/> must be deterministic (fresh generators inside).
    /// </summary>
    private static void CheckParameters(Module module, Func<Variable> loss, int perParameter = 3)
    {
        module.ZeroGrad();
        Tape.Clear();
        loss().Backward();
        foreach (var (name, p) in module.NamedParameters())
        {
            Assert.True(p.Grad != null, $"{name} got no gradient");
            var analytic = p.Grad!.ToArray<double>();
            var original = p.Data;
            var values = original.ToArray<double>();
            for (int j = 0; j < Math.Min(perParameter, values.Length); j++)
            {
                int at = j * (values.Length / perParameter + 1) % values.Length;
                double saved = values[at];
                double Evaluate(double v)
                {
                    values[at] = v;
                    p.Data = Tensor.FromArray(values, original.Shape);
                    using var _ = Tape.NoGrad();
                    return loss().Item();
                }
                double numeric = (Evaluate(saved + 1e-6) - Evaluate(saved - 1e-6)) / 2e-6;
                values[at] = saved;
                p.Data = original;
                Assert.True(Math.Abs(numeric - analytic[at]) <= 1e-6 + 1e-5 * Math.Abs(numeric),
                    $"{name}[{at}]: analytic {analytic[at]:G9}, numeric {numeric:G9}");
            }
        }
    }

    [Fact]
    public void FusedStepMatchesItsDefinition()
    {
        var schedule = new DiffusionSchedule(20, 0.008, 0.001, 0.1);
        var step = schedule.Step(7);
        var pt = Randn([3, 5], 1);
        var eps = Randn([3, 5], 2);
        var z = Randn([3, 5], 3);
        var y = Ops.DiffusionReverseStep(pt, eps, z, step).ToArray<double>();
        double[] p = pt.ToArray<double>(), e = eps.ToArray<double>(), zz = z.ToArray<double>();
        double ab = schedule.AlphaBar[7];
        for (int i = 0; i < y.Length; i++)
        {
            double p0Hat = (p[i] - Math.Sqrt(1 - ab) * e[i]) / Math.Sqrt(ab);
            Assert.Equal(step.C0 * p0Hat + step.C1 * p[i] + step.Sigma * zz[i], y[i], 12);
        }
    }

    [Fact]
    public void FusedStepGradients()
    {
        var schedule = new DiffusionSchedule(20, 0.008, 0.001, 0.1);
        var z = Randn([4, 3], 4);
        Check(v => F.DiffusionReverseStep(v[0], v[1], z, schedule.Step(12)), Randn([4, 3], 5), Randn([4, 3], 6));
        // Non-contiguous inputs and the last step without noise.
        Check(v => F.DiffusionReverseStep(v[0], v[1], null, schedule.Step(1)), Randn([3, 4], 7).Transpose(0, 1), Randn([4, 3], 8));
    }

    [Fact]
    public void ScheduleIsClippedMonotoneAndMatchesHandValues()
    {
        var s = new DiffusionSchedule(20, 0.008, 0.001, 0.1);
        for (int t = 1; t <= 20; t++)
        {
            Assert.InRange(s.Beta[t], 0.001, 0.1);
            Assert.True(s.AlphaBar[t] < s.AlphaBar[t - 1]);
            Assert.Equal(s.AlphaBar[t - 1] * (1 - s.Beta[t]), s.AlphaBar[t], 15);
        }
        // Python: 1 − f(1)/f(0) with f(t) = cos²((t/20 + 0.008)/1.008·π/2); unclipped at t = 1, clipped from t = 8 on.
        Assert.Equal(0.007992721315781437, s.Beta[1], 14);
        Assert.Equal(0.1, s.Beta[10]);
        Assert.Equal(0.524776133712743, s.AlphaBar[10], 13);
        Assert.Equal(0.18297812370466826, s.AlphaBar[20], 13);
        // The last step returns p̂0 itself: c0 = 1, c1 = 0, σ = 0.
        var last = s.Step(1);
        Assert.Equal(1.0, last.C0, 14);
        Assert.Equal(0.0, last.C1);
        Assert.Equal(0.0, last.Sigma);
    }

    [Fact]
    public void TimestepEmbeddingIsSinusoidal()
    {
        var zero = DplModule.TimestepEmbedding(0, 8, DType.Float64).ToArray<double>();
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], zero);
        var e = DplModule.TimestepEmbedding(5, 8, DType.Float64).ToArray<double>();
        double f1 = Math.Pow(10000, -1.0 / 3); // i = 1 of half = 4: 10000^(−i/(half − 1))
        Assert.Equal(Math.Sin(5 * f1), e[1], 14);
        Assert.Equal(Math.Cos(5 * f1), e[5], 14);
        Assert.Equal(Math.Sin(5 * 1e-4), e[3], 14);
    }

    [Fact]
    public void NoisePredictorGradients()
    {
        // The condition as ε_θ's input (default) and added as α_t·c (the first form): gradients to p_t, c and ε_θ's weights.
        foreach (var injection in new[] { DplInjection.Input, DplInjection.Additive })
        {
            var dpl = new DplModule(Small with { Injection = injection }, 6, new Generator(1), DType.Float64);
            Check(v => dpl.PredictNoise(v[0], 4, v[1]), Randn([3, 6], 9), Randn([3, 6], 12));
            var pt = new Variable(Randn([3, 6], 10));
            var c = new Variable(Randn([3, 6], 12));
            CheckParameters(dpl.NoisePredictor, () => F.Sum(F.Mul(dpl.PredictNoise(pt, 2, c), new Variable(Randn([3, 6], 11)))));
        }
    }

    [Fact]
    public void GeometricStatisticsValuesAndGradients()
    {
        var g = DplModule.GeometricStatistics(new Variable(Tensor.FromArray(new double[] { 1, 2, 3, 4 }, [1, 4]))).Data.ToArray<double>();
        double std = Math.Sqrt(1.25 + DplModule.StdFloor);
        Assert.Equal(Math.Tanh(2.5) / 2 + 0.5, g[0], 14);
        Assert.Equal(Math.Tanh(std), g[1], 14);
        Assert.Equal(Math.Exp(-std), g[2], 14);
        Assert.Equal((1.5 / (1.0 + 1e-8) - 1) / 3, g[3], 12); // max |p − μ| = 1.5, mean |p − μ| = 1
        Check(v => DplModule.GeometricStatistics(v[0]), Randn([3, 7], 12));
    }

    /// <summary>Enhanced prototypes and L_diff in training mode with t = 3 and the noise of a fresh Generator(21).</summary>
    private static Variable TrainingOutput(DplModule dpl, Variable p0)
    {
        var r = dpl.Enhance(p0, training: true, new Generator(21), startStep: 3);
        return F.Concat([F.Reshape(r.Enhanced, -1), F.Reshape(r.DiffusionLoss!, 1)], 0);
    }

    [Fact]
    public void EnhanceTrainingGradients()
    {
        var dpl = SmallModule();
        Check(v => TrainingOutput(dpl, v[0]), Randn([4, 6], 13));
        var p0 = new Variable(Randn([4, 6], 14));
        var w = new Variable(Randn([25], 15));
        CheckParameters(dpl, () => F.Sum(F.Mul(TrainingOutput(dpl, p0), w)));
    }

    [Fact]
    public void FirstFormTrainingGradients()
    {
        var dpl = new DplModule(DplConfig.First with { Steps = 5, InferenceStart = 3, Variants = 3, EmbeddingDim = 8, Hidden = 10 }, 6, new Generator(1), DType.Float64);
        Check(v => TrainingOutput(dpl, v[0]), Randn([4, 6], 13));
    }

    [Fact]
    public void ConditionOnRawStatisticsPassesTheGradientCheck()
    {
        var dpl = SmallModule();
        Check(v => dpl.Condition(v[0], v[1]), Randn([3, 6], 31), Randn([3, 6], 32));
        // Raw statistics see the scale that the unit-RMS copy has lost.
        var p = Randn([2, 6], 33);
        using var _ = Tape.NoGrad();
        var a = dpl.Condition(new Variable(p), new Variable(p)).Data.ToArray<double>();
        var b = dpl.Condition(new Variable(p), new Variable(Ops.MulScalar(p, 3))).Data.ToArray<double>();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void MatchedNoiseTrainsWithTheInferenceStartAndVariants()
    {
        var dpl = SmallModule();
        var p0 = new Variable(Randn([4, 6], 34));
        using var _ = Tape.NoGrad();
        for (ulong seed = 0; seed < 20; seed++)
        {
            var r = dpl.Enhance(p0, training: true, new Generator(seed));
            Assert.Equal(3, r.StartStep);
            Assert.InRange(r.DiffusionStep, 1, 3);
            Assert.True(r.NoisedDistance > 0 && r.DenoisedDistance > 0);
        }
        var first = new DplModule(Small with { MatchedNoise = false }, 6, new Generator(1), DType.Float64);
        var steps = Enumerable.Range(0, 40).Select(i => first.Enhance(p0, training: true, new Generator((ulong)i)).StartStep).ToHashSet();
        Assert.Contains(5, steps);
    }

    [Fact]
    public void ScaleGradientKeepsTheValueAndScalesTheGradient()
    {
        var x = Variable.Parameter(Randn([3, 4], 35));
        Tape.Clear();
        var y = DplModule.ScaleGradient(x, 0.02);
        Assert.Equal(x.Data.ToArray<double>(), y.Data.ToArray<double>());
        F.Sum(F.MulScalar(y, 3)).Backward();
        Assert.All(x.Grad!.ToArray<double>(), g => Assert.Equal(0.06, g, 15));
    }

    [Fact]
    public void SplitGradientGivesTheModulesAllOfLDiffAndTheEncoderBeta()
    {
        // The same L_diff draw with the split and with β on all of it: DPL parameters get 1/β times the scaled
        // form's gradient (full weight), p0 (the encoder's side) gets the same β-weighted gradient in both.
        (double[] P0, double[] Module) Gradients(bool split)
        {
            var dpl = new DplModule(Small with { SplitDiffusionGradient = split }, 6, new Generator(1), DType.Float64);
            var p0 = Variable.Parameter(Randn([4, 6], 36));
            Tape.Clear();
            var (loss, _) = dpl.DiffusionLoss(p0, new Generator(5), 3);
            F.MulScalar(loss, dpl.DiffusionTermWeight).Backward();
            return (p0.Grad!.ToArray<double>(), dpl.NoisePredictor.Parameters().First().Grad!.ToArray<double>());
        }
        var split = Gradients(true);
        var scaled = Gradients(false);
        for (int i = 0; i < split.P0.Length; i++) Assert.Equal(scaled.P0[i], split.P0[i], 12);
        for (int i = 0; i < split.Module.Length; i++) Assert.Equal(scaled.Module[i] / 0.02, split.Module[i], 9);
        Assert.Contains(split.Module, g => g != 0);
    }

    [Fact]
    public void WithTheSplitGradientTheDenoiserLearnsWhereBetaScaledDoesNot()
    {
        // SGD on L_diff alone over a fixed set of 8 prototypes (D = 16): with the split, the DPL modules get all of
        // L_diff and it falls well below 1 (predicting zero noise; measured 0.54) for t ≤ t*; with β = 0.02 on all of it, it barely moves.
        double Trained(bool split)
        {
            var config = new DplConfig(InferenceStart: 10, EmbeddingDim: 16, Hidden: 64, SplitDiffusionGradient: split);
            var dpl = new DplModule(config, 16, new Generator(1), DType.Float64);
            var p0 = new Variable(Randn([8, 16], 40));
            var sgd = new Sgd(dpl.NamedParameters().ToList(), 0.05, 0.9, 0);
            var noise = new Generator(41);
            for (int step = 0; step < 300; step++)
            {
                Tape.Clear();
                F.MulScalar(dpl.DiffusionLoss(p0, noise, config.InferenceStart).Loss, dpl.DiffusionTermWeight).Backward();
                sgd.Step();
                sgd.ZeroGrad();
            }
            using var _ = Tape.NoGrad();
            var probe = new Generator(42);
            return Enumerable.Range(0, 200).Average(_ => dpl.DiffusionLoss(p0, probe, config.InferenceStart).Loss.Item());
        }
        double split = Trained(true), scaled = Trained(false);
        Assert.True(split < 0.7 && scaled > 0.9, $"L_diff after 300 steps: split {split:F3}, β-scaled {scaled:F3}");
    }

    [Fact]
    public void EnhanceInferenceGradientsThroughTheVariants()
    {
        var dpl = SmallModule();
        Check(v => dpl.Enhance(v[0], training: false, new Generator(22)).Enhanced, Randn([2, 6], 16));
    }

    [Fact]
    public void EnhanceIsDeterministicGivenTheGenerator()
    {
        var dpl = SmallModule();
        var p0 = new Variable(Randn([5, 6], 17));
        using var _ = Tape.NoGrad();
        foreach (bool training in new[] { true, false })
        {
            var a = dpl.Enhance(p0, training, new Generator(3));
            var b = dpl.Enhance(p0, training, new Generator(3));
            var c = dpl.Enhance(p0, training, new Generator(4));
            Assert.Equal(a.Enhanced.Data.ToArray<double>(), b.Enhanced.Data.ToArray<double>());
            Assert.NotEqual(a.Enhanced.Data.ToArray<double>(), c.Enhanced.Data.ToArray<double>());
        }
        var inference = dpl.Enhance(p0, training: false, new Generator(3));
        Assert.Equal(3, inference.StartStep);
        Assert.Equal(3, inference.Variants.Count);
        Assert.Null(inference.DiffusionLoss);
    }

    [Fact]
    public void FusionStartsAtPointEightAndPointTwo()
    {
        var dpl = SmallModule();
        Assert.Equal(0.8, 1 / (1 + Math.Exp(-dpl.ThetaFusion.Data.Item())), 12);
        Assert.Equal(0.2, 1 / (1 + Math.Exp(-dpl.ThetaDiffusion.Data.Item())), 12);
        var p0 = new Variable(Randn([2, 6], 18));
        var pDiff = new Variable(Randn([2, 6], 19));
        var fused = dpl.Fuse(p0, pDiff).Data.ToArray<double>();
        double[] a = p0.Data.ToArray<double>(), b = pDiff.Data.ToArray<double>();
        for (int i = 0; i < fused.Length; i++) Assert.Equal(0.8 * a[i] + 0.2 * b[i], fused[i], 12);
    }

    [Fact]
    public void LinearUsesPyTorchBounds()
    {
        var linear = new Linear(16, 3, new Generator(1), dtype: DType.Float64);
        Assert.All(linear.Weight.Data.ToArray<double>(), v => Assert.InRange(v, -0.25, 0.25));
        Assert.All(linear.Bias!.Data.ToArray<double>(), v => Assert.InRange(v, -0.25, 0.25));
        Assert.Equal(["weight", "bias"], linear.NamedParameters().Select(p => p.Name));
    }

    /// <summary>A phantom-like episode on 64×64 images (8×8 features): a bright square on noise, 1 fg and 3 bg 4×4 cells.</summary>
    private static (Tensor Image, Tensor Mask, IndexTensor Label) Phantom(ulong seed)
    {
        var mask = new double[64 * 64];
        var labels = new int[64 * 64];
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++) { mask[r * 64 + c] = 1; labels[r * 64 + c] = 1; }
        var m = Tensor.FromArray(mask, [1, 1, 64, 64]).To(DType.Float32);
        var noise = Tensor.Normal([1, 3, 64, 64], new Generator(seed), 0, 0.3);
        return (Ops.Add(noise, Ops.MulScalar(m, 2)), m, new IndexTensor(labels, [1, 64, 64]));
    }

    private static DplSegmenter TinySegmenter(DplConfig config) =>
        new(new FewShotEncoder(new ResNetConfig([1, 1, 1, 1], [false, true, true], 1 / 16.0), FeatureHead.Reduce, new Generator(1), features: 16),
            AlpConfig.Default, config with { Hidden = 32, EmbeddingDim = 16 }, new Generator(2), new Generator(3));

    [Theory]
    [InlineData(DplTarget.All, DplLoss.Added, true)]
    [InlineData(DplTarget.Global, DplLoss.Added, true)]
    [InlineData(DplTarget.All, DplLoss.Replaced, false)]
    [InlineData(DplTarget.Global, DplLoss.Replaced, false)]
    [InlineData(DplTarget.All, DplLoss.Panet, false)]
    [InlineData(DplTarget.All, DplLoss.Paper, true)]
    public void SegmenterLossIsFiniteAndReachesEveryDplParameter(DplTarget target, DplLoss form, bool revised)
    {
        var model = TinySegmenter((revised ? DplConfig.Default : DplConfig.First) with { Target = target, Loss = form });
        var (si, sm, sl) = Phantom(1);
        var (qi, _, ql) = Phantom(2);
        Tape.Clear();
        var loss = model.Loss(si, sm, sl, qi, ql);
        Assert.True(double.IsFinite(loss.Total.Item()) && double.IsFinite(loss.Query) && double.IsFinite(loss.Align));
        Assert.True(loss.Diff is > 0 and < double.PositiveInfinity);
        loss.Total.Backward();
        foreach (var (name, p) in model.Dpl.NamedParameters())
        {
            Assert.True(p.Grad != null, $"{name} got no gradient");
            Assert.True(p.Grad!.ToDoubleArray().Any(v => v != 0), $"{name}'s gradient is zero");
            Assert.All(p.Grad!.ToDoubleArray(), v => Assert.True(double.IsFinite(v)));
        }
        Assert.True(model.Encoder.Parameters().All(p => p.Grad != null));
    }

    [Fact]
    public void PredictionIsReproducibleAndGivesAnUncertaintyMap()
    {
        var model = TinySegmenter(DplConfig.Default);
        model.Eval();
        var (si, sm, _) = Phantom(1);
        var (qi, _, _) = Phantom(2);
        using var _ = Tape.NoGrad();
        var a = model.Predict(si, sm, qi).Data.ToArray<float>();
        var (logits, uncertainty) = model.PredictWithUncertainty(si, sm, qi);
        Assert.Equal([1, 2, 64, 64], logits.Shape);
        Assert.Equal(a, logits.Data.ToArray<float>());
        Assert.Equal([1, 1, 64, 64], uncertainty.Shape);
        var u = uncertainty.ToArray<float>();
        Assert.All(u, v => Assert.InRange(v, 0f, 0.25f)); // the variance of values in [0, 1]
        Assert.Contains(u, v => v > 0);
    }
}
