using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// What <see cref="DplModule.Enhance"/> returns: the enhanced prototypes [m, D]; the noise-prediction loss
/// (training only, else null); the enhanced prototypes of each of the K inference variants (one entry, the
/// result itself, in training); and the start step used.
/// </summary>
public sealed record EnhanceResult(Variable Enhanced, Variable? DiffusionLoss, IReadOnlyList<Variable> Variants, int StartStep);

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
            new Linear(dim + config.EmbeddingDim, h, init, dtype: dtype, accelerator: accelerator), new SiLU(),
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

    /// <summary>ε_θ: Linear(D + E → H) · SiLU · Linear(H → H) · SiLU · Linear(H → D) on [p_t; emb(t)].</summary>
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

    /// <summary>ε_θ(p_t, t) [n, D] for p_t [n, D].</summary>
    public Variable PredictNoise(Variable pt, int t)
    {
        var emb = TimestepEmbedding(t, Config.EmbeddingDim, pt.DType, pt.Data.Accelerator).Expand(pt.Shape[0], Config.EmbeddingDim);
        return NoisePredictor.Forward(F.Concat([pt, new Variable(emb)], 1));
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

    /// <summary>The spatial condition c = f_enc([p0; g(p0)]) [n, D].</summary>
    public Variable Condition(Variable p0) => ConditionEncoder.Forward(F.Concat([p0, GeometricStatistics(p0)], 1));

    /// <summary>The condition's injection weight α_t = scale·(1 − t/T) (eq. 10).</summary>
    public double ConditionWeight(int t) => Config.ConditionScale * (1 - (double)t / Config.Steps);

    /// <summary>The forward process p_t = √ᾱ_t·p0 + √(1 − ᾱ_t)·ε.</summary>
    public Variable Noise(Variable p0, Tensor epsilon, int t) =>
        F.Add(F.MulScalar(p0, Math.Sqrt(Schedule.AlphaBar[t])), new Variable(Ops.MulScalar(epsilon, Math.Sqrt(1 - Schedule.AlphaBar[t]))));

    /// <summary>
    /// The reverse chain from p_t down to p_0 with ε̂_s = ε_θ(p_s, s) + α_s·c at every step s = t..1 and fresh
    /// noise z from <paramref name="generator"/> at every step but the last. Returns p_0 and ε̂_t (the first
    /// prediction, which the diffusion loss compares with the ε that made p_t).
    /// </summary>
    public (Variable P0, Variable FirstEpsHat) Denoise(Variable pt, Variable condition, int t, Generator generator)
    {
        var p = pt;
        Variable? first = null;
        for (int s = t; s >= 1; s--)
        {
            var epsHat = F.Add(PredictNoise(p, s), F.MulScalar(condition, ConditionWeight(s)));
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
    /// Enhances prototypes p0 [m, D]. Training: t ~ U{1..T} (or <paramref name="startStep"/>), one noised copy,
    /// and L_diff = mean‖ε − ε̂_t‖² where ε̂_t is the conditioned prediction at the sampled t from p_t (the DDPM
    /// objective). Inference: t = t* (or <paramref name="startStep"/>), K noised copies denoised as one batch,
    /// p_diff = their mean. All randomness, in this order (t, ε, then z per step), comes from
    /// <paramref name="generator"/>.
    /// </summary>
    public EnhanceResult Enhance(Variable p0, bool training, Generator generator, int? startStep = null)
    {
        if (p0.Rank != 2 || p0.Shape[1] != Dim) throw new ShapeException($"dpl: prototypes {p0.ShapeString} must be [m, {Dim}]");
        int t = startStep ?? (training ? 1 + generator.NextInt(Config.Steps) : Config.InferenceStart);
        if (t < 1 || t > Config.Steps) throw new ArgumentOutOfRangeException(nameof(startStep), t, $"start step must be in 1..{Config.Steps}");
        int m = p0.Shape[0], k = training ? 1 : Config.Variants;
        // Unit scale: diffuse p0 / rms(p0) and scale the denoised prototypes back (see DplConfig.UnitScale).
        var rms = Config.UnitScale ? F.Sqrt(F.AddScalar(F.Mean(F.Mul(p0, p0), [1], keepDim: true), 1e-12)) : null;
        var original = p0;
        if (rms != null) p0 = F.Div(p0, rms);
        var condition = Condition(p0);
        // The K variants run as one [K·m, D] batch; p0 and c are tiled, so their gradients sum over variants.
        var p0Tiled = k == 1 ? p0 : F.Concat(Enumerable.Repeat(p0, k).ToArray(), 0);
        var conditionTiled = k == 1 ? condition : F.Concat(Enumerable.Repeat(condition, k).ToArray(), 0);
        var epsilon = Tensor.Normal([k * m, Dim], generator, dtype: p0.DType, accelerator: p0.Data.Accelerator);
        var (pDiff, firstEpsHat) = Denoise(Noise(p0Tiled, epsilon, t), conditionTiled, t, generator);
        Variable Rescale(Variable p) => rms == null ? p : F.Mul(p, rms);
        if (training)
        {
            var enhanced = Fuse(original, Rescale(pDiff));
            return new EnhanceResult(enhanced, F.MseLoss(firstEpsHat, new Variable(epsilon)), [enhanced], t);
        }
        var variants = Enumerable.Range(0, k).Select(i => Fuse(original, Rescale(F.Narrow(pDiff, 0, i * m, m)))).ToArray();
        var mean = F.Mean(F.Reshape(pDiff, k, m, Dim), [0]);
        return new EnhanceResult(Fuse(original, Rescale(mean)), null, variants, t);
    }
}
