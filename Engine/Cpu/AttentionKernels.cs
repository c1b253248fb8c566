using System.Numerics;

namespace IlgpuSeg.Engine;

internal sealed partial class CpuKernels
{
    public void Attention(Tensor q, Tensor k, Tensor v, double scale, Tensor a, Tensor y)
    {
        if (q.DType == DType.Float32) Attention<float>(q, k, v, scale, a, y);
        else Attention<double>(q, k, v, scale, a, y);
    }

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor a, Tensor dy, double scale, Tensor dq, Tensor dk, Tensor dv)
    {
        if (q.DType == DType.Float32) AttentionBackward<float>(q, k, v, a, dy, scale, dq, dk, dv);
        else AttentionBackward<double>(q, k, v, a, dy, scale, dq, dk, dv);
    }

    // One query row at a time: scores against every key, a max-subtracted softmax, then the weighted sum
    // of the values. Rows are independent, so they split over threads with no reduction across chunks.
    private void Attention<T>(Tensor q, Tensor k, Tensor v, double scale, Tensor a, Tensor y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batches = q.Shape[0], n = q.Shape[1], d = q.Shape[2], m = k.Shape[1], dv = v.Shape[2];
        var qs = Data<T>(q);
        var ks = Data<T>(k);
        var vs = Data<T>(v);
        var aOut = Data<T>(a);
        var yOut = Data<T>(y);
        T s = Cast<T>(scale);
        CpuParallel.For(Threads, batches * n, CpuParallel.Grain((long)m * (d + dv)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r / n;
                int qi = q.Offset + r * d, ai = a.Offset + r * m, yi = y.Offset + r * dv;
                int kb = k.Offset + b * m * d, vb = v.Offset + b * m * dv;
                T max = T.NegativeInfinity;
                for (int j = 0; j < m; j++)
                {
                    T dot = T.Zero;
                    for (int e = 0; e < d; e++) dot += qs[qi + e] * ks[kb + j * d + e];
                    aOut[ai + j] = dot * s;
                    max = T.Max(max, aOut[ai + j]);
                }
                T sum = T.Zero;
                for (int j = 0; j < m; j++)
                {
                    aOut[ai + j] = T.Exp(aOut[ai + j] - max);
                    sum += aOut[ai + j];
                }
                T inv = T.One / sum;
                for (int j = 0; j < m; j++) aOut[ai + j] *= inv;
                for (int e = 0; e < dv; e++) yOut[yi + e] = T.Zero;
                for (int j = 0; j < m; j++)
                {
                    T w = aOut[ai + j];
                    for (int e = 0; e < dv; e++) yOut[yi + e] += w * vs[vb + j * dv + e];
                }
            }
        });
    }

    // Three passes so each output element is written by one thread in a fixed order: the score gradient
    // ds per query row, then dq per query row, then dk and dv per key row (these sum over query rows).
    private void AttentionBackward<T>(Tensor q, Tensor k, Tensor v, Tensor a, Tensor dy, double scale, Tensor dq, Tensor dk, Tensor dv)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batches = q.Shape[0], n = q.Shape[1], d = q.Shape[2], m = k.Shape[1], dvs = v.Shape[2];
        var qs = Data<T>(q);
        var ks = Data<T>(k);
        var vs = Data<T>(v);
        var aIn = Data<T>(a);
        var gs = Data<T>(dy);
        var dqOut = Data<T>(dq);
        var dkOut = Data<T>(dk);
        var dvOut = Data<T>(dv);
        var ds = new T[batches * n * m];
        T s = Cast<T>(scale);

        // ds = a ⊙ (da − Σ_j a_j da_j) with da = dy vᵀ: the softmax backward on one row.
        CpuParallel.For(Threads, batches * n, CpuParallel.Grain((long)m * dvs), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r / n;
                int ai = a.Offset + r * m, gi = dy.Offset + r * dvs, vb = v.Offset + b * m * dvs;
                T rowDot = T.Zero;
                for (int j = 0; j < m; j++)
                {
                    T da = T.Zero;
                    for (int e = 0; e < dvs; e++) da += gs[gi + e] * vs[vb + j * dvs + e];
                    ds[r * m + j] = da;
                    rowDot += aIn[ai + j] * da;
                }
                for (int j = 0; j < m; j++) ds[r * m + j] = aIn[ai + j] * (ds[r * m + j] - rowDot);
            }
        });

        // dq_i = scale · Σ_j ds_ij k_j.
        CpuParallel.For(Threads, batches * n, CpuParallel.Grain((long)m * d), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int b = r / n, di = dq.Offset + r * d, kb = k.Offset + b * m * d;
                for (int e = 0; e < d; e++) dqOut[di + e] = T.Zero;
                for (int j = 0; j < m; j++)
                {
                    T w = ds[r * m + j] * s;
                    for (int e = 0; e < d; e++) dqOut[di + e] += w * ks[kb + j * d + e];
                }
            }
        });

        // dk_j = scale · Σ_i ds_ij q_i and dv_j = Σ_i a_ij dy_i.
        CpuParallel.For(Threads, batches * m, CpuParallel.Grain((long)n * (d + dvs)), (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                int b = c / m, j = c % m;
                int ki = dk.Offset + c * d, vi = dv.Offset + c * dvs;
                for (int e = 0; e < d; e++) dkOut[ki + e] = T.Zero;
                for (int e = 0; e < dvs; e++) dvOut[vi + e] = T.Zero;
                for (int i = 0; i < n; i++)
                {
                    int r = b * n + i;
                    T wk = ds[r * m + j] * s, wv = aIn[a.Offset + r * m + j];
                    int qi = q.Offset + r * d, gi = dy.Offset + r * dvs;
                    for (int e = 0; e < d; e++) dkOut[ki + e] += wk * qs[qi + e];
                    for (int e = 0; e < dvs; e++) dvOut[vi + e] += wv * gs[gi + e];
                }
            }
        });
    }
}
