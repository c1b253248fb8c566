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
        var lines = Lines("softmax_backward", y, axis);
        var dx = y.NewEmpty(lines);
        y.Accelerator.Kernels.SoftmaxBackward(y.Contiguous().Reshape(lines), dy.Contiguous().Reshape(lines), dx, log);
        return dx.Reshape(y.Shape);
    }

    private static Tensor SoftmaxAlong(Tensor x, int axis, bool log)
    {
        using var _ = OpProfiler.Scope(log ? OpFamily.Loss : OpFamily.PrototypeHead);
        var lines = Lines(log ? "log_softmax" : "softmax", x, axis);
        var y = x.NewEmpty(lines);
        x.Accelerator.Kernels.Softmax(x.Contiguous().Reshape(lines), y, log);
        return y.Reshape(x.Shape);
    }

    /// <summary>x's shape as [outer, n, inner] around the softmax axis (the kernels' view; no permute, no copy).</summary>
    private static int[] Lines(string op, Tensor x, int axis)
    {
        if (x.Rank == 0) return [1, 1, 1];
        int a = Shape.Axis(op, axis, x.Rank);
        int outer = x.Shape.Take(a).Aggregate(1, (p, d) => p * d), inner = x.Shape.Skip(a + 1).Aggregate(1, (p, d) => p * d);
        return [outer, x.Shape[a], inner];
    }
}
