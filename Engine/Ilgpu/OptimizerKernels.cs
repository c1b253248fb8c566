using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// SGD in one pass, with the CPU kernel's order of roundings (Cpu/OptimizerKernels.cs).
internal sealed partial class IlgpuKernels
{
    internal readonly record struct SgdKernelArgs(int POffset, int GOffset, int BOffset, int Decay, int Momentum, int First);

    public void SgdStep(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args)
    {
        CheckDevice(parameter, grad, momentumBuffer);
        if (IsFloat(parameter)) SgdStep<float, Real32>(parameter, grad, momentumBuffer, args);
        else SgdStep<double, Real64>(parameter, grad, momentumBuffer, args);
    }

    private void SgdStep<T, R>(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args)
        where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (parameter.Count == 0) return;
        var kernel = device.Kernel(SgdKernel<T>, d => d.LoadAutoGroupedStreamKernel<Index1D, SgdKernelArgs, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, T, T>(SgdKernel<T>));
        var a = new SgdKernelArgs(parameter.Offset, grad.Offset, momentumBuffer.Offset, args.WeightDecay != 0 ? 1 : 0, args.Momentum != 0 ? 1 : 0, args.FirstStep ? 1 : 0);
        kernel(parameter.Count, a, View<T>(parameter), View<T>(grad), View<T>(momentumBuffer), R.Of(args.LearningRate), R.Of(args.Momentum), R.Of(args.WeightDecay));
    }

    private static void SgdKernel<T>(Index1D i, SgdKernelArgs a, ArrayView<T> p, ArrayView<T> g, ArrayView<T> b, T lr, T mu, T wd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T pi = p[a.POffset + i];
        T d = g[a.GOffset + i];
        if (a.Decay != 0) d = d + pi * wd;
        if (a.Momentum != 0)
        {
            if (a.First == 0) d = b[a.BOffset + i] * mu + d;
            b[a.BOffset + i] = d;
        }
        p[a.POffset + i] = pi - d * lr;
    }
}
