using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>
/// torch.optim.SGD with momentum and weight decay (dampening 0, no Nesterov): d = g + λp;
/// b = μb + d (b = d on the first step); p ← p − lr·b. Parameters are updated in place, so modules and
/// state dicts keep seeing the same tensors. A parameter without a gradient is left alone (no decay either).
/// </summary>
public sealed class Sgd(IReadOnlyList<(string Name, Variable Parameter)> parameters, double lr, double momentum = 0.9, double weightDecay = 5e-4)
{
    private readonly Dictionary<string, Tensor> _momentum = [];

    public double LearningRate { get; set; } = lr;

    public double Momentum { get; } = momentum;

    public double WeightDecay { get; } = weightDecay;

    /// <summary>Each parameter's learning rate as a fraction of <see cref="LearningRate"/>, by name (e.g. a lower rate for a pretrained encoder).</summary>
    public Func<string, double> LrScale { get; init; } = _ => 1.0;

    /// <summary>
    /// Updates every parameter that has a gradient in place, in one pass each; momentum buffers are allocated on
    /// the first step and kept out of any tensor scope, since they outlive the step.
    /// </summary>
    public void Step()
    {
        using var _ = OpProfiler.Scope(OpFamily.Optimizer);
        foreach (var (name, p) in parameters)
        {
            if (p.Grad == null) continue;
            bool first = false;
            if (Momentum != 0 && !_momentum.ContainsKey(name))
            {
                _momentum[name] = TensorScope.Keep(p.Data.NewEmpty(p.Shape));
                first = true;
            }
            var buffer = Momentum != 0 ? _momentum[name] : p.Grad;
            Ops.SgdStep(p.Data, p.Grad, buffer, new SgdStepArgs(LearningRate * LrScale(name), Momentum, WeightDecay, first));
        }
    }

    public void ZeroGrad()
    {
        foreach (var (_, p) in parameters) p.ZeroGrad();
    }

    /// <summary>Copies of the momentum buffers by parameter name, for checkpoints ("&lt;name&gt;.momentum_buffer"); the buffers change in place.</summary>
    public Dictionary<string, Tensor> StateDict() => _momentum.ToDictionary(kv => kv.Key + ".momentum_buffer", kv => kv.Value.Clone());

    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        _momentum.Clear();
        var known = parameters.ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (key, value) in state)
        {
            const string suffix = ".momentum_buffer";
            var name = key.EndsWith(suffix, StringComparison.Ordinal) ? key[..^suffix.Length] : null;
            if (name == null || !known.TryGetValue(name, out var p) || !p.Shape.SequenceEqual(value.Shape))
                throw new StateDictMismatchException($"optimizer state: '{key}' {value.ShapeString} matches no parameter");
            var converted = value.DType == p.DType ? value : value.To(p.DType);
            _momentum[name] = TensorScope.Keep(converted.To(p.Data.Accelerator));
        }
    }
}

/// <summary>torch.optim.lr_scheduler.MultiStepLR with evenly spaced milestones: lr = lr0 · γ^⌊iteration / every⌋.</summary>
public sealed record StepDecay(double InitialLr, double Gamma = 0.95, int Every = 1000)
{
    public double At(int iteration) => InitialLr * Math.Pow(Gamma, iteration / Every);
}
