using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// The fused DPL reverse step (METHODS §3), element-wise over contiguous [n, D]:
// p̂0 = (p_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t; p_{t−1} = c0·p̂0 + c1·p_t (+ σ_t·z). Mirror of Engine/Cpu/DiffusionKernels.cs.
internal sealed partial class IlgpuKernels
{
    internal readonly record struct DiffusionArgs<T>(T SqrtOneMinus, T InvSqrtAlphaBar, T C0, T C1, T Sigma, int HasNoise, int PtOffset, int EpsOffset, int ZOffset, int YOffset)
        where T : unmanaged;

    public void DiffusionReverseStep(Tensor pt, Tensor epsHat, Tensor? z, Tensor y, DiffusionStep step)
    {
        CheckDevice(pt, epsHat, z, y);
        if (IsFloat(y)) DiffusionReverseStep<float, Real32>(pt, epsHat, z, y, step);
        else DiffusionReverseStep<double, Real64>(pt, epsHat, z, y, step);
    }

    private void DiffusionReverseStep<T, R>(Tensor pt, Tensor epsHat, Tensor? z, Tensor y, DiffusionStep step) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (y.Count == 0) return;
        var args = new DiffusionArgs<T>(R.Of(step.SqrtOneMinusAlphaBar), R.Of(1 / step.SqrtAlphaBar), R.Of(step.C0), R.Of(step.C1), R.Of(step.Sigma),
            z != null ? 1 : 0, pt.Offset, epsHat.Offset, z?.Offset ?? 0, y.Offset);
        var kernel = device.Kernel(DiffusionStepKernel<T>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, DiffusionArgs<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>>(DiffusionStepKernel<T>));
        kernel(y.Count, args, View<T>(pt), View<T>(epsHat), OptionalView<T>(z, pt), View<T>(y));
    }

    private static void DiffusionStepKernel<T>(Index1D i, DiffusionArgs<T> a, ArrayView<T> pt, ArrayView<T> eps, ArrayView<T> z, ArrayView<T> y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T x = pt[a.PtOffset + i];
        T p0Hat = (x - a.SqrtOneMinus * eps[a.EpsOffset + i]) * a.InvSqrtAlphaBar;
        T next = a.C0 * p0Hat + a.C1 * x;
        y[a.YOffset + i] = a.HasNoise != 0 ? next + a.Sigma * z[a.ZOffset + i] : next;
    }

    public void DiffusionReverseStepBackward(Tensor dy, Tensor dpt, Tensor dEpsHat, DiffusionStep step)
    {
        CheckDevice(dy, dpt, dEpsHat);
        if (IsFloat(dy)) DiffusionReverseStepBackward<float, Real32>(dy, dpt, dEpsHat, step);
        else DiffusionReverseStepBackward<double, Real64>(dy, dpt, dEpsHat, step);
    }

    // The step is affine in (p_t, ε̂): both gradients are dy times a constant.
    private void DiffusionReverseStepBackward<T, R>(Tensor dy, Tensor dpt, Tensor dEpsHat, DiffusionStep step) where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (dy.Count == 0) return;
        var kernel = device.Kernel(DiffusionStepBackwardKernel<T>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, RowOffsets, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, T>(DiffusionStepBackwardKernel<T>));
        kernel(dy.Count, new RowOffsets(dy.Offset, dpt.Offset, dEpsHat.Offset), View<T>(dy), View<T>(dpt), View<T>(dEpsHat), R.Of(step.DPt), R.Of(step.DEpsHat));
    }

    private static void DiffusionStepBackwardKernel<T>(Index1D i, RowOffsets o, ArrayView<T> dy, ArrayView<T> dpt, ArrayView<T> deps, T kPt, T kEps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        dpt[o.B + i] = kPt * dy[o.A + i];
        deps[o.C + i] = kEps * dy[o.A + i];
    }
}
