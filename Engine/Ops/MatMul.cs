namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>
    /// Matrix product of the last two axes, as torch.matmul for rank ≥ 2: leading (batch) axes broadcast.
    /// Transposed views are consumed as they are, without a copy.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        CheckPair("matmul", a, b);
        if (a.Rank < 2 || b.Rank < 2 || a.Shape[^1] != b.Shape[^2])
            throw new ShapeException($"matmul: shapes {a.ShapeString} and {b.ShapeString} do not multiply (need [..., m, k] · [..., k, n])");
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        var batch = Shape.Broadcast("matmul", a.Shape[..^2], b.Shape[..^2]);
        int batches = Shape.Count(batch);
        var a3 = Batch3(a.Expand([.. batch, m, k]), batches);
        var b3 = Batch3(b.Expand([.. batch, k, n]), batches);
        var y = a.NewEmpty(batches, m, n);
        if (k == 0) a.Accelerator.Kernels.Fill(y, 0);
        else if (batches > 0 && m > 0 && n > 0) a.Accelerator.Kernels.MatMul(a3, b3, y);
        return y.Reshape([.. batch, m, n]);
    }

    /// <summary>Views [..., r, c] as [batches, r, c]; copies only when the batch axes cannot merge.</summary>
    private static Tensor Batch3(Tensor t, int batches)
    {
        int r = t.Shape[^2], c = t.Shape[^1];
        if (t.Rank == 2) return new Tensor(t.Buffer, [1, r, c], [0, t.Strides[0], t.Strides[1]], t.Offset);
        // The batch axes merge into one when, ignoring size-1 axes, each is its inner neighbour's stride
        // times size apart (this includes all-broadcast batch axes with stride 0).
        var axes = Enumerable.Range(0, t.Rank - 2).Where(i => t.Shape[i] != 1).ToArray();
        bool mergeable = true;
        for (int i = 0; i + 1 < axes.Length; i++)
            mergeable &= t.Strides[axes[i]] == t.Strides[axes[i + 1]] * t.Shape[axes[i + 1]];
        if (!mergeable)
        {
            var c3 = t.Contiguous();
            return new Tensor(c3.Buffer, [batches, r, c], [r * c, c3.Strides[^2], c3.Strides[^1]], c3.Offset);
        }
        int stride = axes.Length == 0 ? 0 : t.Strides[axes[^1]];
        return new Tensor(t.Buffer, [batches, r, c], [stride, t.Strides[^2], t.Strides[^1]], t.Offset);
    }
}
