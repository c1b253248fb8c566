namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>Max pooling of [N, C, H, W] with square windows; also returns each maximum's index in its plane.</summary>
    public static (Tensor Y, int[] Argmax) MaxPool2d(Tensor x, Pool2dGeometry g)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        var (ho, wo) = PoolOutput("max_pool2d", x, g);
        var y = x.NewEmpty(x.Shape[0], x.Shape[1], ho, wo);
        var argmax = new int[y.Count];
        x.Accelerator.Kernels.MaxPool2d(Planes(x.Contiguous()), Planes(y), argmax, g);
        return (y, argmax);
    }

    public static Tensor MaxPool2dBackward(Tensor dy, int[] argmax, int[] inputShape)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        var dx = Tensor.Zeros(inputShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.MaxPool2dBackward(Planes(dy.Contiguous()), argmax, Planes(dx));
        return dx;
    }

    /// <summary>Average pooling with count_include_pad = true and floor output size, as torch's default.</summary>
    public static Tensor AvgPool2d(Tensor x, Pool2dGeometry g)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        var (ho, wo) = PoolOutput("avg_pool2d", x, g);
        var y = x.NewEmpty(x.Shape[0], x.Shape[1], ho, wo);
        x.Accelerator.Kernels.AvgPool2d(Planes(x.Contiguous()), Planes(y), g, adaptive: false);
        return y;
    }

    public static Tensor AvgPool2dBackward(Tensor dy, int[] inputShape, Pool2dGeometry g)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        var dx = Tensor.Zeros(inputShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.AvgPool2dBackward(Planes(dy.Contiguous()), Planes(dx), g, adaptive: false);
        return dx;
    }

    /// <summary>Adaptive average pooling to [outH, outW], with torch's window rule.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outH, int outW)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        if (x.Rank != 4 || outH < 1 || outW < 1)
            throw new ShapeException($"adaptive_avg_pool2d: input {x.ShapeString} must be 4-D and output [{outH}, {outW}] positive");
        var y = x.NewEmpty(x.Shape[0], x.Shape[1], outH, outW);
        x.Accelerator.Kernels.AvgPool2d(Planes(x.Contiguous()), Planes(y), default, adaptive: true);
        return y;
    }

    public static Tensor AdaptiveAvgPool2dBackward(Tensor dy, int[] inputShape)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        var dx = Tensor.Zeros(inputShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.AvgPool2dBackward(Planes(dy.Contiguous()), Planes(dx), default, adaptive: true);
        return dx;
    }

    private static (int Ho, int Wo) PoolOutput(string op, Tensor x, Pool2dGeometry g)
    {
        if (x.Rank != 4) throw new ShapeException($"{op}: input {x.ShapeString} must be [N, C, H, W]");
        if (g.Kernel < 1 || g.Stride < 1 || g.Padding < 0 || g.Padding * 2 > g.Kernel)
            throw new ShapeException($"{op}: invalid window {g} for input {x.ShapeString} (padding must be at most half the kernel)");
        int ho = g.Out(x.Shape[2]), wo = g.Out(x.Shape[3]);
        if (ho < 1 || wo < 1) throw new ShapeException($"{op}: window {g} is larger than input {x.ShapeString}");
        return (ho, wo);
    }

    /// <summary>A contiguous [N, C, H, W] tensor viewed as [N·C, H, W].</summary>
    private static Tensor Planes(Tensor t) => t.Reshape(t.Shape[0] * t.Shape[1], t.Shape[2], t.Shape[3]);
}
