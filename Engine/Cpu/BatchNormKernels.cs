using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace IlgpuSeg.Engine;

// Batch norm over x viewed [N, C, S]. One worker per channel, images in order: sums are deterministic.
internal sealed partial class CpuKernels
{
    public void BatchNormStats(Tensor x, Tensor mean, Tensor variance)
    {
        if (x.DType == DType.Float32) BatchNormStats<float>(x, mean, variance);
        else BatchNormStats<double>(x, mean, variance);
    }

    public void BatchNormForward(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias, Tensor y, bool relu)
    {
        if (x.DType == DType.Float32) BatchNormForward<float>(x, mean, invStd, weight, bias, y, relu);
        else BatchNormForward<double>(x, mean, invStd, weight, bias, y, relu);
    }

    public void BatchNormBackward(Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor? weight, bool batchStatistics, Tensor dx, Tensor dweight, Tensor dbias,
        Tensor? reluOutput)
    {
        if (x.DType == DType.Float32) BatchNormBackward<float>(x, dy, mean, invStd, weight, batchStatistics, dx, dweight, dbias, reluOutput);
        else BatchNormBackward<double>(x, dy, mean, invStd, weight, batchStatistics, dx, dweight, dbias, reluOutput);
    }

    private static T At<T>(Tensor? t, T[]? data, int i, T fallback) where T : unmanaged =>
        t == null ? fallback : data![t.Offset + i * t.Strides[0]];

    private void BatchNormStats<T>(Tensor x, Tensor mean, Tensor variance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], s = x.Shape[2];
        var xs = Data<T>(x);
        var ms = Data<T>(mean);
        var vs = Data<T>(variance);
        T count = T.CreateTruncating((double)n * s);
        CpuParallel.For(Threads, c, CpuParallel.Grain(2L * n * s), (c0, c1) =>
        {
            for (int ch = c0; ch < c1; ch++)
            {
                T sum = T.Zero;
                for (int i = 0; i < n; i++) sum += BlockSum<T>(xs.AsSpan(x.Offset + (i * c + ch) * s, s));
                T m = sum / count;
                T squares = T.Zero;
                for (int i = 0; i < n; i++) squares += BlockSumSquaredDeviations<T>(xs.AsSpan(x.Offset + (i * c + ch) * s, s), m);
                ms[mean.Offset + ch] = m;
                vs[variance.Offset + ch] = squares / count;
            }
        });
    }

    private void BatchNormForward<T>(Tensor x, Tensor mean, Tensor invStd, Tensor? weight, Tensor? bias, Tensor y, bool relu) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = x.Shape[1], s = x.Shape[2];
        var xs = Data<T>(x);
        var ys = Data<T>(y);
        var ms = Data<T>(mean);
        var isd = Data<T>(invStd);
        var ws = weight == null ? null : Data<T>(weight);
        var bs = bias == null ? null : Data<T>(bias);
        CpuParallel.For(Threads, x.Shape[0] * c, CpuParallel.Grain(s), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int ch = r % c;
                T scale = isd[invStd.Offset + ch] * At(weight, ws, ch, T.One);
                T m = ms[mean.Offset + ch], b = At(bias, bs, ch, T.Zero);
                int xi = x.Offset + r * s, yi = y.Offset + r * s;
                NormalizeRow(xs.AsSpan(xi, s), ys.AsSpan(yi, s), m, scale, b);
                if (relu) TensorPrimitives.Max(ys.AsSpan(yi, s), T.Zero, ys.AsSpan(yi, s));
            }
        });
    }

    /// <summary>Σ (x − m)² over a row in <see cref="BlockSum{T}"/>'s order: four Vector256 accumulators, then lanes, then the tail.</summary>
    internal static T BlockSumSquaredDeviations<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count, j = 0;
        var mv = Vector256.Create(m);
        Vector256<T> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (; j + 4 * w <= x.Length; j += 4 * w)
        {
            var d0 = Vector256.Create(x.Slice(j, w)) - mv;
            var d1 = Vector256.Create(x.Slice(j + w, w)) - mv;
            var d2 = Vector256.Create(x.Slice(j + 2 * w, w)) - mv;
            var d3 = Vector256.Create(x.Slice(j + 3 * w, w)) - mv;
            acc0 += d0 * d0;
            acc1 += d1 * d1;
            acc2 += d2 * d2;
            acc3 += d3 * d3;
        }
        var acc = (acc0 + acc1) + (acc2 + acc3);
        T sum = T.Zero;
        for (int l = 0; l < w; l++) sum += acc[l];
        for (; j < x.Length; j++)
        {
            T d = x[j] - m;
            sum += d * d;
        }
        return sum;
    }

    /// <summary>
    /// Σ g and Σ g·(x − m)·istd over a row, g gated by ReLU's step of the fused ReLU's output when there is one, in
    /// <see cref="BlockSum{T}"/>'s order (two Vector256 accumulators per sum, then lanes, then the tail).
    /// </summary>
    internal static (T SumDy, T SumDyXhat) BlockSumsForBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, ReadOnlySpan<T> reluOutput, bool relu, T m, T istd)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count, j = 0;
        Vector256<T> mv = Vector256.Create(m), iv = Vector256.Create(istd);
        Vector256<T> dy0 = default, dy1 = default, dx0 = default, dx1 = default;
        for (; j + 2 * w <= x.Length; j += 2 * w)
        {
            var g0 = Vector256.Create(dy.Slice(j, w));
            var g1 = Vector256.Create(dy.Slice(j + w, w));
            if (relu)
            {
                g0 *= Step(Vector256.Create(reluOutput.Slice(j, w)));
                g1 *= Step(Vector256.Create(reluOutput.Slice(j + w, w)));
            }
            dy0 += g0;
            dy1 += g1;
            dx0 += g0 * (Vector256.Create(x.Slice(j, w)) - mv) * iv;
            dx1 += g1 * (Vector256.Create(x.Slice(j + w, w)) - mv) * iv;
        }
        var sdy = dy0 + dy1;
        var sdx = dx0 + dx1;
        T sumDy = T.Zero, sumDyXhat = T.Zero;
        for (int l = 0; l < w; l++)
        {
            sumDy += sdy[l];
            sumDyXhat += sdx[l];
        }
        for (; j < x.Length; j++)
        {
            T g = relu ? dy[j] * ApplyUnary(UnaryOp.Step, reluOutput[j], T.Zero, T.Zero) : dy[j]; // as ReLU's backward (BinaryOp.ReluGrad)
            sumDy += g;
            sumDyXhat += g * (x[j] - m) * istd;
        }
        return (sumDy, sumDyXhat);
    }

    /// <summary>y = (x − m)·scale + b on a row, in SIMD with the scalar formula as the tail (separate multiply and add, no FMA: same bits).</summary>
    internal static void NormalizeRow<T>(ReadOnlySpan<T> x, Span<T> y, T m, T scale, T b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<T> mv = new(m), sv = new(scale), bv = new(b);
            for (; j <= y.Length - Vector<T>.Count; j += Vector<T>.Count)
                ((new Vector<T>(x[j..]) - mv) * sv + bv).CopyTo(y[j..]);
        }
        for (; j < y.Length; j++) y[j] = (x[j] - m) * scale + b;
    }

    /// <summary>
    /// dx = w·istd·(g − mean(g) − x̂·mean(g·x̂)) with x̂ = (x − m)·istd on a row, g gated by ReLU's step of the fused
    /// ReLU's output when there is one; SIMD with the scalar formula as the tail, same operation order: same bits.
    /// </summary>
    internal static void BackwardDxRow<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, ReadOnlySpan<T> reluOutput, bool relu, Span<T> dx,
        T m, T istd, T wIstd, T meanDy, T meanDyXhat) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<T> mv = new(m), iv = new(istd), wv = new(wIstd), mdy = new(meanDy), mdx = new(meanDyXhat);
            for (; j <= dx.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var g = new Vector<T>(dy[j..]);
                if (relu) g *= Step(new Vector<T>(reluOutput[j..]));
                var xhat = (new Vector<T>(x[j..]) - mv) * iv;
                (wv * (g - mdy - xhat * mdx)).CopyTo(dx[j..]);
            }
        }
        for (; j < dx.Length; j++)
        {
            T g = relu ? dy[j] * ApplyUnary(UnaryOp.Step, reluOutput[j], T.Zero, T.Zero) : dy[j]; // as ReLU's backward (BinaryOp.ReluGrad)
            T xhat = (x[j] - m) * istd;
            dx[j] = wIstd * (g - meanDy - xhat * meanDyXhat);
        }
    }

    private void BatchNormBackward<T>(Tensor x, Tensor dy, Tensor mean, Tensor invStd, Tensor? weight, bool batchStatistics, Tensor dx, Tensor dweight, Tensor dbias,
        Tensor? reluOutput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rs = reluOutput == null ? null : Data<T>(reluOutput);
        int ro = reluOutput?.Offset ?? 0;
        int n = x.Shape[0], c = x.Shape[1], s = x.Shape[2];
        var xs = Data<T>(x);
        var gs = Data<T>(dy);
        var ds = Data<T>(dx);
        var ms = Data<T>(mean);
        var isd = Data<T>(invStd);
        var ws = weight == null ? null : Data<T>(weight);
        var dws = Data<T>(dweight);
        var dbs = Data<T>(dbias);
        T count = T.CreateTruncating((double)n * s);
        CpuParallel.For(Threads, c, CpuParallel.Grain(3L * n * s), (c0, c1) =>
        {
            for (int ch = c0; ch < c1; ch++)
            {
                T m = ms[mean.Offset + ch], istd = isd[invStd.Offset + ch], w = At(weight, ws, ch, T.One);
                T sumDy = T.Zero, sumDyXhat = T.Zero;
                for (int i = 0; i < n; i++)
                {
                    int xi = x.Offset + (i * c + ch) * s, gi = dy.Offset + (i * c + ch) * s, ri = ro + (i * c + ch) * s;
                    var (rowDy, rowDyXhat) = BlockSumsForBackward(xs.AsSpan(xi, s), gs.AsSpan(gi, s), rs == null ? default : rs.AsSpan(ri, s), rs != null, m, istd);
                    sumDy += rowDy;
                    sumDyXhat += rowDyXhat;
                }
                dbs[dbias.Offset + ch] = sumDy;
                dws[dweight.Offset + ch] = sumDyXhat;
                // With batch statistics: dx = w·istd·(dy − mean(dy) − x̂·mean(dy·x̂)).
                T meanDy = batchStatistics ? sumDy / count : T.Zero, meanDyXhat = batchStatistics ? sumDyXhat / count : T.Zero;
                for (int i = 0; i < n; i++)
                {
                    int xi = x.Offset + (i * c + ch) * s, gi = dy.Offset + (i * c + ch) * s, di = dx.Offset + (i * c + ch) * s, ri = ro + (i * c + ch) * s;
                    BackwardDxRow(xs.AsSpan(xi, s), gs.AsSpan(gi, s), rs == null ? default : rs.AsSpan(ri, s), rs != null, ds.AsSpan(di, s),
                        m, istd, w * istd, meanDy, meanDyXhat);
                }
            }
        });
    }
}
