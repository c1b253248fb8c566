namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>
    /// Scaled dot-product attention y = softmax(Q Kᵀ/√d) V for q [n, d], k [m, d], v [m, dv], or batched
    /// [B, n, d], [B, m, d], [B, m, dv]. Also returns the attention matrix A [.., n, m], which the backward needs.
    /// </summary>
    public static (Tensor Output, Tensor Weights) Attention(Tensor q, Tensor k, Tensor v)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        var (q3, k3, v3) = AttentionOperands(q, k, v);
        int batches = q3.Shape[0], n = q3.Shape[1], m = k3.Shape[1], dv = v3.Shape[2];
        var a = q.NewEmpty(batches, n, m);
        var y = q.NewEmpty(batches, n, dv);
        q.Accelerator.Kernels.Attention(q3, k3, v3, AttentionScale(q3), a, y);
        return q.Rank == 2 ? (y.Reshape(n, dv), a.Reshape(n, m)) : (y, a);
    }

    /// <summary>dq, dk, dv of <see cref="Attention"/> from its inputs, its weights A and the output gradient dy.</summary>
    public static (Tensor Dq, Tensor Dk, Tensor Dv) AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor weights, Tensor dy)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        var (q3, k3, v3) = AttentionOperands(q, k, v);
        int batches = q3.Shape[0], n = q3.Shape[1], m = k3.Shape[1], dv = v3.Shape[2];
        CheckPair("attention_backward", q, dy);
        if (Shape.Count(weights.Shape) != batches * n * m || Shape.Count(dy.Shape) != batches * n * dv)
            throw new ShapeException($"attention_backward: weights {weights.ShapeString} or gradient {dy.ShapeString} do not fit q {q.ShapeString}, k {k.ShapeString}, v {v.ShapeString}");
        var a3 = weights.Contiguous().Reshape(batches, n, m);
        var g3 = dy.Contiguous().Reshape(batches, n, dv);
        var dq = q.NewEmpty(q3.Shape);
        var dk = q.NewEmpty(k3.Shape);
        var dvOut = q.NewEmpty(v3.Shape);
        q.Accelerator.Kernels.AttentionBackward(q3, k3, v3, a3, g3, AttentionScale(q3), dq, dk, dvOut);
        return (dq.Reshape(q.Shape), dk.Reshape(k.Shape), dvOut.Reshape(v.Shape));
    }

    private static double AttentionScale(Tensor q3) => 1 / Math.Sqrt(q3.Shape[2]);

    /// <summary>Validates shapes and returns contiguous rank-3 views (rank 2 becomes a batch of one).</summary>
    private static (Tensor Q, Tensor K, Tensor V) AttentionOperands(Tensor q, Tensor k, Tensor v)
    {
        CheckPair("attention", q, k);
        CheckPair("attention", q, v);
        bool ranksOk = (q.Rank == 2 || q.Rank == 3) && k.Rank == q.Rank && v.Rank == q.Rank;
        if (!ranksOk || q.Shape[^1] != k.Shape[^1] || k.Shape[^2] != v.Shape[^2] || (q.Rank == 3 && (q.Shape[0] != k.Shape[0] || q.Shape[0] != v.Shape[0])))
            throw new ShapeException($"attention: q {q.ShapeString}, k {k.ShapeString}, v {v.ShapeString} do not fit (need [B,] n×d, m×d, m×dv)");
        if (q.Shape[^1] == 0 || k.Shape[^2] == 0)
            throw new ShapeException($"attention: q {q.ShapeString} and k {k.ShapeString} need d > 0 and at least one key");
        Tensor As3(Tensor t) => t.Rank == 2 ? t.Contiguous().Reshape(1, t.Shape[0], t.Shape[1]) : t.Contiguous();
        return (As3(q), As3(k), As3(v));
    }
}
