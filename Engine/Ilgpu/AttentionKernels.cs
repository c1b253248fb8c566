namespace IlgpuSeg.Engine;

// Attention, composed from the GEMM, softmax and element-wise kernels (no kernel of its own).
internal sealed partial class IlgpuKernels
{
    public void Attention(Tensor q, Tensor k, Tensor v, double scale, Tensor a, Tensor y)
    {
        CheckDevice(q, k, v, a, y);
        int b = q.Shape[0], n = q.Shape[1], m = k.Shape[1];
        var scores = q.NewEmpty(b, n, m);
        MatMul(q, k.Transpose(1, 2), scores);
        var scaled = q.NewEmpty(b, n, m);
        Unary(UnaryOp.MulScalar, scores, scaled, scale);
        Softmax(scaled.Reshape(b * n, m), a.Reshape(b * n, m), log: false);
        MatMul(a, v, y);
    }

    // dv = aᵀ dy; ds = softmax backward of (dy vᵀ) through a; dq = scale · ds k; dk = scale · dsᵀ q.
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor a, Tensor dy, double scale, Tensor dq, Tensor dk, Tensor dv)
    {
        CheckDevice(q, k, v, a, dy, dq, dk, dv);
        int b = q.Shape[0], n = q.Shape[1], m = k.Shape[1];
        MatMul(a.Transpose(1, 2), dy, dv);
        var da = q.NewEmpty(b, n, m);
        MatMul(dy, v.Transpose(1, 2), da);
        var ds = q.NewEmpty(b, n, m);
        SoftmaxBackward(a.Reshape(b * n, m), da.Reshape(b * n, m), ds.Reshape(b * n, m), log: false);
        var dqRaw = dq.NewEmpty(dq.Shape);
        MatMul(ds, k, dqRaw);
        Unary(UnaryOp.MulScalar, dqRaw, dq, scale);
        var dkRaw = dk.NewEmpty(dk.Shape);
        MatMul(ds.Transpose(1, 2), q, dkRaw);
        Unary(UnaryOp.MulScalar, dkRaw, dk, scale);
    }
}
