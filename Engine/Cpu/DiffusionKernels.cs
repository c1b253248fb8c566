using System.Numerics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    public void DiffusionReverseStep(Tensor pt, Tensor epsHat, Tensor? z, Tensor y, DiffusionStep step)
    {
        if (y.DType == DType.Float32) DiffusionReverseStep<float>(pt, epsHat, z, y, step);
        else DiffusionReverseStep<double>(pt, epsHat, z, y, step);
    }

    public void DiffusionReverseStepBackward(Tensor dy, Tensor dpt, Tensor dEpsHat, DiffusionStep step)
    {
        if (dy.DType == DType.Float32) DiffusionReverseStepBackward<float>(dy, dpt, dEpsHat, step);
        else DiffusionReverseStepBackward<double>(dy, dpt, dEpsHat, step);
    }

    // Element-wise; the intermediate p̂0 stays in a register instead of a tensor.
    private void DiffusionReverseStep<T>(Tensor pt, Tensor epsHat, Tensor? z, Tensor y, DiffusionStep step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = Data<T>(pt);
        var e = Data<T>(epsHat);
        var zs = z == null ? null : Data<T>(z);
        var ys = Data<T>(y);
        int po = pt.Offset, eo = epsHat.Offset, zo = z?.Offset ?? 0, yo = y.Offset;
        T sqrtOneMinus = Cast<T>(step.SqrtOneMinusAlphaBar), invSqrtAlphaBar = Cast<T>(1 / step.SqrtAlphaBar);
        T c0 = Cast<T>(step.C0), c1 = Cast<T>(step.C1), sigma = Cast<T>(step.Sigma);
        CpuParallel.For(Threads, y.Count, 1 << 14, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                T x = p[po + i];
                T p0Hat = (x - sqrtOneMinus * e[eo + i]) * invSqrtAlphaBar;
                T next = c0 * p0Hat + c1 * x;
                ys[yo + i] = zs == null ? next : next + sigma * zs[zo + i];
            }
        });
    }

    // The step is affine in (p_t, ε̂), so both gradients are dy times a constant.
    private void DiffusionReverseStepBackward<T>(Tensor dy, Tensor dpt, Tensor dEpsHat, DiffusionStep step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = Data<T>(dy);
        var dp = Data<T>(dpt);
        var de = Data<T>(dEpsHat);
        int go = dy.Offset, po = dpt.Offset, eo = dEpsHat.Offset;
        T kp = Cast<T>(step.DPt), ke = Cast<T>(step.DEpsHat);
        CpuParallel.For(Threads, dy.Count, 1 << 14, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                dp[po + i] = kp * g[go + i];
                de[eo + i] = ke * g[go + i];
            }
        });
    }
}
