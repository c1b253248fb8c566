using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// What <see cref="DplModule.Enhance"/> returns: the enhanced prototypes [m, D]; the noise-prediction loss L_diff
/// (training only, else null) and the step it was taken at; the enhanced prototypes of each inference variant (one
/// entry, the result itself, in training); the start step of the chain; and, for the training metrics, the mean
/// squared distance to p0 (unit scale) of the noised prototypes p_t and of the denoised ones (0 at inference).
/// </summary>
public sealed record EnhanceResult(Variable Enhanced, Variable? DiffusionLoss, IReadOnlyList<Variable> Variants, int StartStep)
{
    public int DiffusionStep { get; init; }

    public double NoisedDistance { get; init; }

    public double DenoisedDistance { get; init; }
}

/// <summary>
/// DPL (METHODS §3): a prototype set p0 [m, D] is noised to step t, denoised back to 0 by a noise predictor
/// ε_θ(p_t, t) steered by a spatial condition c = f_enc([p0; g(p0)]), and fused conservatively with p0.
/// The whole chain is differentiable; each reverse step is one fused op (<see cref="F.DiffusionReverseStep"/>).
/// </summary>
public sealed class DplModule : Module
{
    /// <summary>Keeps √var differentiable for a constant vector (e.g. the zero prototype of an empty mask).</summary>
    public const double StdFloor = 1e-12;

    public DplModule(DplConfig config, int dim, Generator init, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        if (dim < 2) throw new ArgumentOutOfRangeException(nameof(dim), dim, "the elongation statistic needs D ≥ 2");
        if (config.EmbeddingDim < 4 || config.EmbeddingDim % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(config), config.EmbeddingDim, "the timestep embedding width must be even and ≥ 4");
        if (config.InferenceStart < 1 || config.InferenceStart > config.Steps || config.Variants < 1)
            throw new ArgumentException($"DPL: start step {config.InferenceStart} must be in 1..{config.Steps} and K = {config.Variants} ≥ 1");
        Config = config;
        Dim = dim;
        Schedule = new DiffusionSchedule(config.Steps, config.CosineOffset, config.BetaMin, config.BetaMax);
        int h = config.Hidden;
        NoisePredictor = RegisterModule("noise_predictor", new Sequential(
            new Linear(dim + config.EmbeddingDim + (config.Injection == DplInjection.Additive ? 0 : dim), h, init, dtype: dtype, accelerator: accelerator), new SiLU(),
            new Linear(h, h, init, dtype: dtype, accelerator: accelerator), new SiLU(),
            new Linear(h, dim, init, dtype: dtype, accelerator: accelerator)));
        ConditionEncoder = RegisterModule("condition_encoder", new Sequential(
            new Linear(dim + 4, h, init, dtype: dtype, accelerator: accelerator), new SiLU(),
            new Linear(h, dim, init, dtype: dtype, accelerator: accelerator)));
        // σ(θ) = w  ⇔  θ = ln(w/(1 − w)).
        ThetaFusion = RegisterParameter("theta_f", Tensor.Full([1], Logit(config.FusionWeight), dtype, accelerator));
        ThetaDiffusion = RegisterParameter("theta_d", Tensor.Full([1], Logit(config.DiffusionWeight), dtype, accelerator));
    }

    public DplConfig Config { get; }

    public int Dim { get; }

    public DiffusionSchedule Schedule { get; }

    /// <summary>ε_θ: Linear(D + E (+ D) → H) · SiLU · Linear(H → H) · SiLU · Linear(H → D) on [p_t; emb(t) (; c)].</summary>
    public Sequential NoisePredictor { get; }

    /// <summary>f_enc: Linear(D + 4 → H) · SiLU · Linear(H → D) on [p0; g].</summary>
    public Sequential ConditionEncoder { get; }

    public Variable ThetaFusion { get; }

    public Variable ThetaDiffusion { get; }

    private static double Logit(double w) => Math.Log(w / (1 - w));

    /// <summary>
    /// The sinusoidal timestep embedding [1, dim] of DDPM (Ho et al.): frequencies f_i = 10000^(−i/(dim/2 − 1)),
    /// i = 0..dim/2−1, laid out as [sin(t·f) ; cos(t·f)]. A constant: it depends only on the integer t.
    /// </summary>
    public static Tensor TimestepEmbedding(int t, int dim, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        int half = dim / 2;
        var values = new double[dim];
        for (int i = 0; i < half; i++)
        {
            double angle = t * Math.Exp(-Math.Log(10000) * i / (half - 1));
            values[i] = Math.Sin(angle);
            values[half + i] = Math.Cos(angle);
        }
        return Tensor.FromArray(values, [1, dim], accelerator).To(dtype);
    }

    /// <summary>
    /// The predicted noise ε̂ [n, D] for p_t [n, D] at step t under condition c [n, D] (<see cref="DplConfig.Injection"/>):
    /// ε_θ([p_t; emb(t); c]) with c as an input, ε_θ([p_t; emb(t)]) + α_t·c in the first form.
    /// </summary>
    public Variable PredictNoise(Variable pt, int t, Variable condition)
    {
        var emb = new Variable(TimestepEmbedding(t, Config.EmbeddingDim, pt.DType, pt.Data.Accelerator).Expand(pt.Shape[0], Config.EmbeddingDim));
        if (Config.Injection == DplInjection.Additive)
            return F.Add(NoisePredictor.Forward(F.Concat([pt, emb], 1)), F.MulScalar(condition, ConditionWeight(t)));
        return NoisePredictor.Forward(F.Concat([pt, emb, condition], 1));
    }

    /// <summary>
    /// Geometric statistics g [n, 4] of each row of p [n, D] (METHODS eq. 5–8), each scaled to [0, 1] by its analytic
    /// range: x' = tanh(μ)/2 + 1/2, y' = tanh(s), c' = exp(−s), e' = (e − 1)/(D − 1) with
    /// e = max_i |p_i − μ| / (mean_i |p_i − μ| + 1e-8); μ the mean, s the population std (√(var + 1e-12)).
    /// </summary>
    public static Variable GeometricStatistics(Variable p)
    {
        int d = p.Shape[1];
        var mean = F.Mean(p, [1], keepDim: true);
        var centred = F.Sub(p, mean);
        var std = F.Sqrt(F.AddScalar(F.Mean(F.Mul(centred, centred), [1], keepDim: true), StdFloor));
        var x = F.AddScalar(F.MulScalar(F.Tanh(mean), 0.5), 0.5);
        var y = F.Tanh(std);
        var compactness = F.Exp(F.Neg(std));
        var deviation = F.Abs(centred);
        var (maxDeviation, _) = F.Max(deviation, 1, keepDim: true);
        var elongation = F.Div(maxDeviation, F.AddScalar(F.Mean(deviation, [1], keepDim: true), 1e-8));
        var e = F.MulScalar(F.AddScalar(elongation, -1), 1.0 / (d - 1));
        return F.Concat([x, y, compactness, e], 1);
    }

    /// <summary>
    /// The spatial condition c = f_enc([p0; g]) [n, D] for the diffused (unit-scale) prototypes <paramref name="p0"/>,
    /// with g the geometric statistics of the raw prototypes (<see cref="DplConfig.RawStatistics"/>) or of p0 itself.
    /// </summary>
    public Variable Condition(Variable p0, Variable raw) =>
        ConditionEncoder.Forward(F.Concat([p0, GeometricStatistics(Config.RawStatistics ? raw : p0)], 1));

    /// <summary>The condition's injection weight α_t = scale·(1 − t/T) (eq. 10; the first, additive injection).</summary>
    public double ConditionWeight(int t) => Config.ConditionScale * (1 - (double)t / Config.Steps);

    /// <summary>The forward process p_t = √ᾱ_t·p0 + √(1 − ᾱ_t)·ε.</summary>
    public Variable Noise(Variable p0, Tensor epsilon, int t) =>
        F.Add(F.MulScalar(p0, Math.Sqrt(Schedule.AlphaBar[t])), new Variable(Ops.MulScalar(epsilon, Math.Sqrt(1 - Schedule.AlphaBar[t]))));

    /// <summary>
    /// The reverse chain from p_t down to p_0 with ε̂_s = <see cref="PredictNoise"/>(p_s, s, c) at every step s = t..1 and fresh
    /// noise z from <paramref name="generator"/> at every step but the last. Returns p_0 and ε̂_t (the first
    /// prediction, which the diffusion loss compares with the ε that made p_t).
    /// </summary>
    public (Variable P0, Variable FirstEpsHat) Denoise(Variable pt, Variable condition, int t, Generator generator)
    {
        var p = pt;
        Variable? first = null;
        for (int s = t; s >= 1; s--)
        {
            var epsHat = PredictNoise(p, s, condition);
            first ??= epsHat;
            var z = s > 1 ? Tensor.Normal(p.Shape, generator, dtype: p.DType, accelerator: p.Data.Accelerator) : null;
            p = F.DiffusionReverseStep(p, epsHat, z, Schedule.Step(s));
        }
        return (p, first!);
    }

    /// <summary>Conservative fusion (w_f·p0 + w_d·p_diff)/(w_f + w_d) with w = σ(θ).</summary>
    public Variable Fuse(Variable p0, Variable pDiff)
    {
        var wf = F.Sigmoid(ThetaFusion);
        var wd = F.Sigmoid(ThetaDiffusion);
        return F.Div(F.Add(F.Mul(wf, p0), F.Mul(wd, pDiff)), F.Add(wf, wd));
    }

    /// <summary>
    /// Enhances prototypes p0 [m, D]: noised to the start step t, denoised back by the reverse chain, fused with p0.
    /// Inference, and training with <see cref="DplConfig.MatchedNoise"/>: t = t* and K noised copies denoised as one
    /// batch, p_diff = their mean. First-form training: t ~ U{1..T}, one copy. <paramref name="startStep"/> overrides t.
    /// In training L_diff is the DDPM objective: in the first form (no matched noise, no split gradient) on the chain's
    /// own first prediction ε̂_t, otherwise on a separate draw (<see cref="DiffusionLoss"/>). All randomness, in this
    /// order (t, ε, z per step, then L_diff's draw), comes from <paramref name="generator"/>.
    /// </summary>
    public EnhanceResult Enhance(Variable p0, bool training, Generator generator, int? startStep = null)
    {
        if (p0.Rank != 2 || p0.Shape[1] != Dim) throw new ShapeException($"dpl: prototypes {p0.ShapeString} must be [m, {Dim}]");
        bool firstLaw = training && !Config.MatchedNoise;
        int t = startStep ?? (firstLaw ? 1 + generator.NextInt(Config.Steps) : Config.InferenceStart);
        if (t < 1 || t > Config.Steps) throw new ArgumentOutOfRangeException(nameof(startStep), t, $"start step must be in 1..{Config.Steps}");
        int m = p0.Shape[0], k = firstLaw ? 1 : Config.Variants;
        var original = p0;
        var (unit, rms) = UnitScaled(original);
        var condition = Condition(unit, original);
        // The K variants run as one [K·m, D] batch; p0 and c are tiled, so their gradients sum over variants.
        var p0Tiled = k == 1 ? unit : F.Concat(Enumerable.Repeat(unit, k).ToArray(), 0);
        var conditionTiled = k == 1 ? condition : F.Concat(Enumerable.Repeat(condition, k).ToArray(), 0);
        var epsilon = Tensor.Normal([k * m, Dim], generator, dtype: unit.DType, accelerator: unit.Data.Accelerator);
        var pt = Noise(p0Tiled, epsilon, t);
        var (pDiff, firstEpsHat) = Denoise(pt, conditionTiled, t, generator);
        Variable Rescale(Variable p) => rms == null ? p : F.Mul(p, rms);
        var enhanced = k == 1 ? Fuse(original, Rescale(pDiff)) : Fuse(original, Rescale(F.Mean(F.Reshape(pDiff, k, m, Dim), [0])));
        if (!training)
        {
            var variants = Enumerable.Range(0, k).Select(i => Fuse(original, Rescale(F.Narrow(pDiff, 0, i * m, m)))).ToArray();
            return new EnhanceResult(enhanced, null, variants, t);
        }
        var (diffusionLoss, diffusionStep) = firstLaw && !Config.SplitDiffusionGradient
            ? (F.MseLoss(firstEpsHat, new Variable(epsilon)), t)
            : DiffusionLoss(original, generator, firstLaw ? Config.Steps : Config.InferenceStart);
        return new EnhanceResult(enhanced, diffusionLoss, [enhanced], t)
        {
            DiffusionStep = diffusionStep,
            NoisedDistance = MeanSquaredDistance(pt.Data, p0Tiled.Data),
            DenoisedDistance = MeanSquaredDistance(pDiff.Data, p0Tiled.Data),
        };
    }

    /// <summary>
    /// The DDPM objective on prototypes p0 [m, D] at s ~ U{1..<paramref name="maxStep"/>}: mean‖ε − ε̂_s‖² with
    /// ε̂_s = <see cref="PredictNoise"/>(p_s, s, c). With <see cref="DplConfig.SplitDiffusionGradient"/> the gradient that reaches p0 (and
    /// through it the encoder) is scaled by β while the DPL modules get it whole; the caller then adds L_diff at weight
    /// <see cref="DiffusionTermWeight"/> = 1.
    /// </summary>
    public (Variable Loss, int Step) DiffusionLoss(Variable p0, Generator generator, int maxStep)
    {
        var source = Config.SplitDiffusionGradient ? ScaleGradient(p0, Config.LossWeight) : p0;
        var (unit, _) = UnitScaled(source);
        int s = 1 + generator.NextInt(maxStep);
        var epsilon = Tensor.Normal(unit.Shape, generator, dtype: unit.DType, accelerator: unit.Data.Accelerator);
        var epsHat = PredictNoise(Noise(unit, epsilon, s), s, Condition(unit, source));
        return (F.MseLoss(epsHat, new Variable(epsilon)), s);
    }

    /// <summary>The weight the segmenters give L_diff: 1 when the gradient is split (β already scales the encoder's share), else β.</summary>
    public double DiffusionTermWeight => Config.SplitDiffusionGradient ? 1 : Config.LossWeight;

    /// <summary>x in the forward (bit for bit: x + s·(x − x)), with its gradient multiplied by <paramref name="scale"/>.</summary>
    public static Variable ScaleGradient(Variable x, double scale)
    {
        var frozen = x.Detach();
        return F.Add(frozen, F.MulScalar(F.Sub(x, frozen), scale));
    }

    /// <summary>p / rms(p) per row and the rms [m, 1] (see <see cref="DplConfig.UnitScale"/>); p itself and null without unit scale.</summary>
    private (Variable Unit, Variable? Rms) UnitScaled(Variable p)
    {
        if (!Config.UnitScale) return (p, null);
        var rms = F.Sqrt(F.AddScalar(F.Mean(F.Mul(p, p), [1], keepDim: true), 1e-12));
        return (F.Div(p, rms), rms);
    }

    private static double MeanSquaredDistance(Tensor a, Tensor b)
    {
        var d = Ops.Sub(a, b);
        return Ops.Sum(Ops.Mul(d, d)).Item() / d.Count;
    }
}
