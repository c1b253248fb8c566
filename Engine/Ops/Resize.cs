namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>Bilinear resize of [N, C, H, W] to [N, C, outH, outW] (torch.nn.functional.interpolate, mode='bilinear').</summary>
    public static Tensor ResizeBilinear(Tensor x, int outH, int outW, bool alignCorners)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        if (x.Rank != 4 || outH < 1 || outW < 1 || x.Shape[2] < 1 || x.Shape[3] < 1)
            throw new ShapeException($"interpolate: input {x.ShapeString} must be 4-D and non-empty, output [{outH}, {outW}] positive");
        var y = x.NewEmpty(x.Shape[0], x.Shape[1], outH, outW);
        x.Accelerator.Kernels.ResizeBilinear(Planes(x.Contiguous()), Planes(y), alignCorners);
        return y;
    }

    public static Tensor ResizeBilinearBackward(Tensor dy, int[] inputShape, bool alignCorners)
    {
        using var _ = OpProfiler.Scope(OpFamily.PoolingResize);
        var dx = Tensor.Zeros(inputShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.ResizeBilinearBackward(Planes(dy.Contiguous()), Planes(dx), alignCorners);
        return dx;
    }
}
