using System.Numerics;

namespace IlgpuSeg.Engine;

// SGD in one pass over parameter, gradient and momentum instead of seven tensor ops; each rounding is the
// one the separate ops (MulScalar, Add, Sub) made, so results are bitwise the same as before the fusion.
// The vector body does the same multiplies and adds per lane (no fused multiply-add), so it gives the bits
// of the scalar rule, SgdScalar, which also does the tail; chunks are independent elements, so any thread count agrees.
internal sealed partial class CpuKernels
{
    public void SgdStep(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args)
    {
        if (parameter.DType == DType.Float32) SgdStep<float>(parameter, grad, momentumBuffer, args);
        else SgdStep<double>(parameter, grad, momentumBuffer, args);
    }

    private void SgdStep<T>(Tensor parameter, Tensor grad, Tensor momentumBuffer, SgdStepArgs args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] p = Data<T>(parameter), g = Data<T>(grad), b = Data<T>(momentumBuffer);
        int po = parameter.Offset, go = grad.Offset, bo = momentumBuffer.Offset;
        CpuParallel.For(Threads, parameter.Count, 1 << 16, (i0, i1) =>
            SgdRow(p.AsSpan(po + i0, i1 - i0), g.AsSpan(go + i0, i1 - i0), b.AsSpan(bo + i0, i1 - i0), args));
    }

    /// <summary>The step on one run of elements: <see cref="SgdScalar{T}"/> per element, in SIMD where the row is long enough.</summary>
    internal static void SgdRow<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> b, SgdStepArgs args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lr = Cast<T>(args.LearningRate), mu = Cast<T>(args.Momentum), wd = Cast<T>(args.WeightDecay);
        bool decay = args.WeightDecay != 0, momentum = args.Momentum != 0, first = args.FirstStep;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<T> vlr = new(lr), vmu = new(mu), vwd = new(wd);
            for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var vp = new Vector<T>(p[i..]);
                var d = new Vector<T>(g[i..]);
                if (decay) d += vp * vwd;
                if (momentum)
                {
                    if (!first) d = new Vector<T>(b[i..]) * vmu + d;
                    d.CopyTo(b[i..]);
                }
                (vp - d * vlr).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++) SgdScalar(ref p[i], g[i], ref b[i], lr, mu, wd, decay, momentum, first);
    }

    /// <summary>The rule: d = g + wd·p; b = d on the first step, else mu·b + d; p −= lr·d (each product rounded, as the separate ops).</summary>
    internal static void SgdScalar<T>(ref T p, T g, ref T b, T lr, T mu, T wd, bool decay, bool momentum, bool first) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T d = decay ? g + p * wd : g;
        if (momentum) d = b = first ? d : b * mu + d;
        p -= d * lr;
    }
}
