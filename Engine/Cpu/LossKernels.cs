using System.Numerics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    public void Nll(Tensor logp, int[] target, Tensor? weight, int ignoreIndex, Tensor loss, Tensor usedWeight)
    {
        if (logp.DType == DType.Float32) Nll<float>(logp, target, weight, ignoreIndex, loss, usedWeight);
        else Nll<double>(logp, target, weight, ignoreIndex, loss, usedWeight);
    }

    public void NllBackward(Tensor g, int[] target, Tensor? weight, int ignoreIndex, Tensor dlogp)
    {
        if (g.DType == DType.Float32) NllBackward<float>(g, target, weight, ignoreIndex, dlogp);
        else NllBackward<double>(g, target, weight, ignoreIndex, dlogp);
    }

    // logp is contiguous [N, C, S]; element (n, s) reads logp[n, target, s].
    private void Nll<T>(Tensor logp, int[] target, Tensor? weight, int ignoreIndex, Tensor loss, Tensor usedWeight)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int classes = logp.Shape[1], spatial = logp.Shape[2];
        var lp = Data<T>(logp);
        var w = weight == null ? null : Data<T>(weight);
        int wo = weight?.Offset ?? 0;
        var ls = Data<T>(loss);
        var ws = Data<T>(usedWeight);
        CpuParallel.For(Threads, target.Length, 1 << 14, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                int t = target[i];
                if (t == ignoreIndex)
                {
                    ls[loss.Offset + i] = T.Zero;
                    ws[usedWeight.Offset + i] = T.Zero;
                    continue;
                }
                T wt = w == null ? T.One : w[wo + t * weight!.Strides[0]];
                int n = i / spatial, s = i % spatial;
                ls[loss.Offset + i] = -wt * lp[logp.Offset + (n * classes + t) * spatial + s];
                ws[usedWeight.Offset + i] = wt;
            }
        });
    }

    private void NllBackward<T>(Tensor g, int[] target, Tensor? weight, int ignoreIndex, Tensor dlogp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int classes = dlogp.Shape[1], spatial = dlogp.Shape[2];
        var gs = Data<T>(g);
        var w = weight == null ? null : Data<T>(weight);
        int wo = weight?.Offset ?? 0;
        var ds = Data<T>(dlogp);
        CpuParallel.For(Threads, target.Length, 1 << 14, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                int t = target[i];
                if (t == ignoreIndex) continue;
                T wt = w == null ? T.One : w[wo + t * weight!.Strides[0]];
                int n = i / spatial, s = i % spatial;
                ds[dlogp.Offset + (n * classes + t) * spatial + s] = -wt * gs[g.Offset + i];
            }
        });
    }
}
