namespace IlgpuSeg.Engine;

public static partial class Ops
{
    public static Tensor Softmax(Tensor x, int axis) => SoftmaxAlong(x, axis, log: false);

    public static Tensor LogSoftmax(Tensor x, int axis) => SoftmaxAlong(x, axis, log: true);

    /// <summary>The input gradient of softmax (or log-softmax) along an axis, from its output y and dy.</summary>
    public static Tensor SoftmaxBackward(Tensor y, Tensor dy, int axis, bool log)
    {
        using var _ = OpProfiler.Scope(log ? OpFamily.Loss : OpFamily.PrototypeHead);
        CheckPair("softmax_backward", y, dy);
        if (!y.Shape.SequenceEqual(dy.Shape))
            throw new ShapeException($"softmax_backward: output {y.ShapeString} and gradient {dy.ShapeString} differ");
        var (yr, perm) = LastAxisRows("softmax_backward", y, axis);
        var (gr, _) = LastAxisRows("softmax_backward", dy, axis);
        var dx = y.NewEmpty(yr.Shape);
        y.Accelerator.Kernels.SoftmaxBackward(yr, gr, dx, log);
        return FromRows(dx, y.Shape, perm);
    }

    private static Tensor SoftmaxAlong(Tensor x, int axis, bool log)
    {
        using var _ = OpProfiler.Scope(log ? OpFamily.Loss : OpFamily.PrototypeHead);
        var (rows, perm) = LastAxisRows(log ? "log_softmax" : "softmax", x, axis);
        var y = x.NewEmpty(rows.Shape);
        x.Accelerator.Kernels.Softmax(rows, y, log);
        return FromRows(y, x.Shape, perm);
    }

    /// <summary>x with the axis moved last, as a contiguous [rows, n] matrix (no copy when it is already last).</summary>
    private static (Tensor Rows, int[] Perm) LastAxisRows(string op, Tensor x, int axis)
    {
        int a = Shape.Axis(op, axis, Math.Max(1, x.Rank));
        if (x.Rank == 0) return (x.Reshape(1, 1), []);
        var perm = Enumerable.Range(0, x.Rank).Where(i => i != a).Append(a).ToArray();
        int n = x.Shape[a];
        return (x.Permute(perm).Contiguous().Reshape(n == 0 ? 0 : x.Count / n, n), perm);
    }

    private static Tensor FromRows(Tensor rows, int[] shape, int[] perm)
    {
        if (perm.Length == 0) return rows.Reshape(shape);
        var permuted = rows.Reshape(perm.Select(p => shape[p]).ToArray());
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return permuted.Permute(inverse).Contiguous();
    }
}
