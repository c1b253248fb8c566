using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Models;

/// <summary>torch.nn.Conv2d with square kernel, stride, padding and dilation, groups = 1.</summary>
public sealed class Conv2d : Layer
{
    public Conv2d(int inChannels, int outChannels, int kernel, Generator init, int stride = 1, int padding = 0, int dilation = 1,
        bool bias = false, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        (Stride, Padding, Dilation) = (stride, padding, dilation);
        // torchvision's ResNet init: kaiming normal, fan_out, gain √2 (ReLU).
        double std = Math.Sqrt(2.0 / (outChannels * kernel * kernel));
        Weight = RegisterParameter("weight", Tensor.Normal([outChannels, inChannels, kernel, kernel], init, 0, std, dtype, accelerator));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros([outChannels], dtype, accelerator));
    }

    public Variable Weight { get; }

    public Variable? Bias { get; }

    public int Stride { get; }

    public int Padding { get; }

    public int Dilation { get; }

    public override Variable Forward(Variable x) => F.Conv2d(x, Weight, Bias, Stride, Padding, Dilation);
}
