using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>
    /// torch.matmul for rank ≥ 2. dA = dY·Bᵀ and dB = Aᵀ·dY, using transposed views that GEMM reads
    /// directly; broadcast batch axes are summed back.
    /// </summary>
    public static Variable MatMul(Variable a, Variable b) =>
        Tape.Record("matmul", Ops.MatMul(a.Data, b.Data), [a, b], g => [
            a.RequiresGrad ? Ops.SumTo(Ops.MatMul(g, b.Data.Transpose(-1, -2)), a.Shape) : null,
            b.RequiresGrad ? Ops.SumTo(Ops.MatMul(a.Data.Transpose(-1, -2), g), b.Shape) : null]);
}
