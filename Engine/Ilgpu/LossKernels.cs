using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Negative log-likelihood for logp [N, C, S] and integer targets [N·S] (uploaded per call).
internal sealed partial class IlgpuKernels
{
    internal readonly record struct NllArgs(int Classes, int Spatial, int IgnoreIndex, int InOffset, int HasWeight, int WeightOffset, int WeightStride);

    public void Nll(Tensor logp, int[] target, Tensor? weight, int ignoreIndex, Tensor loss, Tensor usedWeight)
    {
        CheckDevice(logp, weight, loss, usedWeight);
        if (IsFloat(logp)) Nll<float>(logp, target, weight, ignoreIndex, loss, usedWeight);
        else Nll<double>(logp, target, weight, ignoreIndex, loss, usedWeight);
    }

    private void Nll<T>(Tensor logp, int[] target, Tensor? weight, int ignoreIndex, Tensor loss, Tensor usedWeight) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (target.Length == 0) return;
        var t = device.Upload(target);
        var args = new NllArgs(logp.Shape[1], logp.Shape[2], ignoreIndex, logp.Offset, weight != null ? 1 : 0, weight?.Offset ?? 0, weight?.Strides[0] ?? 0);
        var kernel = device.Kernel(NllKernel<T>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, NllArgs, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<T>, int, ArrayView<T>, int>(NllKernel<T>));
        kernel(target.Length, args, View<T>(logp), IlgpuAccelerator.Typed<int>(t, target.Length), OptionalView<T>(weight, logp), View<T>(loss), loss.Offset, View<T>(usedWeight), usedWeight.Offset);
        device.Return(t);
    }

    private static void NllKernel<T>(Index1D i, NllArgs a, ArrayView<T> logp, ArrayView<int> target, ArrayView<T> weight,
        ArrayView<T> loss, int lossOffset, ArrayView<T> used, int usedOffset) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = target[i];
        if (t == a.IgnoreIndex)
        {
            loss[lossOffset + i] = T.Zero;
            used[usedOffset + i] = T.Zero;
            return;
        }
        T wt = a.HasWeight != 0 ? weight[a.WeightOffset + t * a.WeightStride] : T.One;
        int n = i / a.Spatial, s = i % a.Spatial;
        loss[lossOffset + i] = -wt * logp[a.InOffset + (n * a.Classes + t) * a.Spatial + s];
        used[usedOffset + i] = wt;
    }

    public void NllBackward(Tensor g, int[] target, Tensor? weight, int ignoreIndex, Tensor dlogp)
    {
        CheckDevice(g, weight, dlogp);
        if (IsFloat(g)) NllBackward<float>(g, target, weight, ignoreIndex, dlogp);
        else NllBackward<double>(g, target, weight, ignoreIndex, dlogp);
    }

    private void NllBackward<T>(Tensor g, int[] target, Tensor? weight, int ignoreIndex, Tensor dlogp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (target.Length == 0) return;
        var t = device.Upload(target);
        var args = new NllArgs(dlogp.Shape[1], dlogp.Shape[2], ignoreIndex, g.Offset, weight != null ? 1 : 0, weight?.Offset ?? 0, weight?.Strides[0] ?? 0);
        var kernel = device.Kernel(NllBackwardKernel<T>,
            d => d.LoadAutoGroupedStreamKernel<Index1D, NllArgs, ArrayView<T>, ArrayView<int>, ArrayView<T>, ArrayView<T>, int>(NllBackwardKernel<T>));
        kernel(target.Length, args, View<T>(g), IlgpuAccelerator.Typed<int>(t, target.Length), OptionalView<T>(weight, g), View<T>(dlogp), dlogp.Offset);
        device.Return(t);
    }

    // dlogp[n, t, s] = −w[t] · g[n, s]; dlogp arrives zeroed.
    private static void NllBackwardKernel<T>(Index1D i, NllArgs a, ArrayView<T> g, ArrayView<int> target, ArrayView<T> weight, ArrayView<T> dlogp, int dOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int t = target[i];
        if (t == a.IgnoreIndex) return;
        T wt = a.HasWeight != 0 ? weight[a.WeightOffset + t * a.WeightStride] : T.One;
        int n = i / a.Spatial, s = i % a.Spatial;
        dlogp[dOffset + (n * a.Classes + t) * a.Spatial + s] = -wt * g[a.InOffset + i];
    }
}
