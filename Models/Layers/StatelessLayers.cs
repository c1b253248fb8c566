using IlgpuSeg.Autograd;

namespace IlgpuSeg.Models;

/// <summary>torch.nn.ReLU (no state; a layer so it holds its index in a Sequential, as in PyTorch).</summary>
public sealed class ReLU : Layer
{
    public override Variable Forward(Variable x) => F.Relu(x);
}

/// <summary>torch.nn.SiLU (x·σ(x)).</summary>
public sealed class SiLU : Layer
{
    public override Variable Forward(Variable x) => F.Silu(x);
}

/// <summary>torch.nn.Dropout with an explicit generator; identity in eval mode.</summary>
public sealed class Dropout(double p, IlgpuSeg.Engine.Generator generator) : Layer
{
    public override Variable Forward(Variable x) => F.Dropout(x, p, IsTraining, generator);
}

/// <summary>torch.nn.AdaptiveAvgPool2d.</summary>
public sealed class AdaptiveAvgPool2d(int outH, int outW) : Layer
{
    public override Variable Forward(Variable x) => F.AdaptiveAvgPool2d(x, outH, outW);
}
