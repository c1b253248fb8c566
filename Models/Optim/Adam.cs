using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// torch.optim.Adam (no AMSGrad): d = g + λp; m = β1·m + (1 − β1)·d; v = β2·v + (1 − β2)·d²;
/// p ← p − lr·(m/(1 − β1^k))/(√(v/(1 − β2^k)) + ε) at the k-th step of that parameter. Parameters and moments change in
/// place. A parameter without a gradient is left alone and its step count does not advance.
/// </summary>
public sealed class Adam(IReadOnlyList<(string Name, Variable Parameter)> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
{
    private readonly Dictionary<string, (Tensor ExpAvg, Tensor ExpAvgSq)> _moments = [];
    private readonly Dictionary<string, long> _steps = [];

    private static readonly string[] Suffixes = [".exp_avg_sq", ".exp_avg", ".step"];

    public double LearningRate { get; set; } = lr;

    public void Step()
    {
        using var _ = OpProfiler.Scope(OpFamily.Optimizer);
        foreach (var (name, p) in parameters)
        {
            if (p.Grad == null) continue;
            if (!_moments.TryGetValue(name, out var moments))
                _moments[name] = moments = (TensorScope.Keep(Tensor.Zeros(p.Shape, p.DType, p.Data.Accelerator)), TensorScope.Keep(Tensor.Zeros(p.Shape, p.DType, p.Data.Accelerator)));
            long k = _steps[name] = _steps.GetValueOrDefault(name) + 1;
            var d = weightDecay == 0 ? p.Grad : Ops.Add(p.Grad, Ops.MulScalar(p.Data, weightDecay));
            moments.ExpAvg.CopyFrom(Ops.Add(Ops.MulScalar(moments.ExpAvg, beta1), Ops.MulScalar(d, 1 - beta1)));
            moments.ExpAvgSq.CopyFrom(Ops.Add(Ops.MulScalar(moments.ExpAvgSq, beta2), Ops.MulScalar(Ops.Mul(d, d), 1 - beta2)));
            double c1 = 1 - Math.Pow(beta1, k), c2 = 1 - Math.Pow(beta2, k);
            var denominator = Ops.AddScalar(Ops.MulScalar(Ops.Sqrt(moments.ExpAvgSq), 1 / Math.Sqrt(c2)), eps);
            p.Data.CopyFrom(Ops.Sub(p.Data, Ops.MulScalar(Ops.Div(moments.ExpAvg, denominator), LearningRate / c1)));
        }
    }

    public void ZeroGrad()
    {
        foreach (var (_, p) in parameters) p.ZeroGrad();
    }

    /// <summary>Copies of the state by parameter name, as PyTorch names it: "&lt;name&gt;.exp_avg", ".exp_avg_sq" and ".step" (a scalar).</summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, (m, v)) in _moments)
        {
            state[name + ".exp_avg"] = m.Clone();
            state[name + ".exp_avg_sq"] = v.Clone();
            state[name + ".step"] = Tensor.Scalar(_steps[name], DType.Float64);
        }
        return state;
    }

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        _moments.Clear();
        _steps.Clear();
        var known = parameters.ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var key in state.Keys)
            if (Suffixes.FirstOrDefault(x => key.EndsWith(x, StringComparison.Ordinal)) is not { } suffix || !known.ContainsKey(key[..^suffix.Length]))
                throw new StateDictMismatchException($"optimizer state: '{key}' matches no parameter");
        foreach (var (name, p) in known)
        {
            if (!state.TryGetValue(name + ".step", out var step)) continue;
            Tensor Moment(string suffix) => state.TryGetValue(name + suffix, out var t) && t.Shape.SequenceEqual(p.Shape)
                ? TensorScope.Keep((t.DType == p.DType ? t : t.To(p.DType)).To(p.Data.Accelerator).Clone())
                : throw new StateDictMismatchException($"optimizer state: '{name}{suffix}' is missing or does not match {p.ShapeString}");
            _moments[name] = (Moment(".exp_avg"), Moment(".exp_avg_sq"));
            _steps[name] = (long)step.Item();
        }
    }
}
