using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>
    /// softmax(Q Kᵀ/√d) V for q [n, d], k [m, d], v [m, dv] (or batched [B, ...]) as one op; the attention
    /// weights from the forward are kept for the backward instead of recomputing them.
    /// </summary>
    public static Variable Attention(Variable q, Variable k, Variable v)
    {
        var (y, weights) = Ops.Attention(q.Data, k.Data, v.Data);
        return Tape.Record("attention", y, [q, k, v], g =>
        {
            var (dq, dk, dv) = Ops.AttentionBackward(q.Data, k.Data, v.Data, weights, g);
            return [dq, dk, dv];
        });
    }
}
