using System.Numerics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    public void Copy(Tensor src, Tensor dst)
    {
        if (src.DType == DType.Float32) CopyCast<float, float>(src, dst);
        else CopyCast<double, double>(src, dst);
    }

    public void Cast(Tensor src, Tensor dst)
    {
        switch (src.DType, dst.DType)
        {
            case (DType.Float32, DType.Float32): CopyCast<float, float>(src, dst); break;
            case (DType.Float32, DType.Float64): CopyCast<float, double>(src, dst); break;
            case (DType.Float64, DType.Float32): CopyCast<double, float>(src, dst); break;
            default: CopyCast<double, double>(src, dst); break;
        }
    }

    private void CopyCast<TS, TD>(Tensor src, Tensor dst)
        where TS : unmanaged, IFloatingPointIeee754<TS> where TD : unmanaged, IFloatingPointIeee754<TD>
    {
        var layout = new StridedLayout(dst.Shape, src, dst);
        var s = Data<TS>(src);
        var d = Data<TD>(dst);
        int ss = layout.InnerStride(0), ds = layout.InnerStride(1);
        CpuParallel.For(Threads, layout.Rows, layout.RowGrain, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int si = layout.RowStart(0, r), di = layout.RowStart(1, r), n = layout.RowLength(r);
                if (ss == 1 && ds == 1 && typeof(TS) == typeof(TD))
                {
                    s.AsSpan(si, n).CopyTo(MemoryExtensions.AsSpan((TS[])(object)d, di, n));
                    continue;
                }
                for (int j = 0; j < n; j++) d[di + j * ds] = TD.CreateTruncating(s[si + j * ss]);
            }
        });
    }

    public void Fill(Tensor dst, double value)
    {
        if (dst.DType == DType.Float32) FillTyped(dst, (float)value);
        else FillTyped(dst, value);
    }

    private void FillTyped<T>(Tensor dst, T value) where T : unmanaged
    {
        var layout = new StridedLayout(dst.Shape, dst);
        var d = Data<T>(dst);
        int ds = layout.InnerStride(0);
        CpuParallel.For(Threads, layout.Rows, layout.RowGrain, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int di = layout.RowStart(0, r), n = layout.RowLength(r);
                if (ds == 1) d.AsSpan(di, n).Fill(value);
                else for (int j = 0; j < n; j++) d[di + j * ds] = value;
            }
        });
    }

    public void Random(Tensor dst, RandomStream stream, RandomDistribution distribution, double a, double b)
    {
        if (dst.DType == DType.Float32) Random<float>(dst, stream, distribution, a, b);
        else Random<double>(dst, stream, distribution, a, b);
    }

    // Element i always uses counter FirstCounter + i, so chunking cannot change the values.
    private void Random<T>(Tensor dst, RandomStream stream, RandomDistribution distribution, double a, double b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = Data<T>(dst);
        int offset = dst.Offset;
        bool single = typeof(T) == typeof(float);
        CpuParallel.For(Threads, dst.Count, 1 << 14, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                var block = stream.Block(i);
                double v = distribution == RandomDistribution.Normal
                    ? a + b * Philox.Normal(block)
                    : a + (b - a) * (single ? Philox.UniformFloat(block.Item1) : Philox.UniformDouble(block));
                d[offset + i] = Cast<T>(v);
            }
        });
    }
}
