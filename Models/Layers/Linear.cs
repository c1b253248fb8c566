using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>torch.nn.Linear: y = x·Wᵀ + b for x [..., in], weight [out, in], bias [out].</summary>
public sealed class Linear : Layer
{
    public Linear(int inFeatures, int outFeatures, Generator init, bool bias = true, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        // PyTorch's reset_parameters: kaiming_uniform(a = √5) gives the bound gain·√(3/fan_in) with
        // gain = √(2/(1 + 5)), i.e. 1/√fan_in; the bias uses the same bound. Weight first, then bias.
        double bound = inFeatures > 0 ? 1 / Math.Sqrt(inFeatures) : 0;
        Weight = RegisterParameter("weight", Tensor.Uniform([outFeatures, inFeatures], init, -bound, bound, dtype, accelerator));
        if (bias) Bias = RegisterParameter("bias", Tensor.Uniform([outFeatures], init, -bound, bound, dtype, accelerator));
    }

    public Variable Weight { get; }

    public Variable? Bias { get; }

    public override Variable Forward(Variable x)
    {
        var y = F.MatMul(x, F.Transpose(Weight, 0, 1));
        return Bias == null ? y : F.Add(y, Bias);
    }
}
