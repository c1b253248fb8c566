namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>2D convolution (groups = 1) of x [N, C, H, W] with w [O, C, kh, kw] and optional bias [O].</summary>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? bias, Conv2dGeometry g)
    {
        using var _ = OpProfiler.Scope(OpFamily.Convolution);
        CheckConv("conv2d", x.Shape, w, g, x);
        if (bias != null)
        {
            CheckPair("conv2d", x, bias);
            if (bias.Rank != 1 || bias.Shape[0] != w.Shape[0])
                throw new ShapeException($"conv2d: bias {bias.ShapeString} does not match weight {w.ShapeString}");
        }
        var y = x.NewEmpty(x.Shape[0], w.Shape[0], g.OutH(x.Shape[2], w.Shape[2]), g.OutW(x.Shape[3], w.Shape[3]));
        x.Accelerator.Kernels.Conv2d(x.Contiguous(), w.Contiguous(), bias, y, g);
        return y;
    }

    /// <summary>The gradient of conv2d with respect to its input of shape <paramref name="inputShape"/>.</summary>
    public static Tensor Conv2dBackwardInput(Tensor dy, Tensor w, int[] inputShape, Conv2dGeometry g)
    {
        using var _ = OpProfiler.Scope(OpFamily.Convolution);
        CheckConv("conv2d_backward_input", inputShape, w, g, dy);
        CheckConvOutput("conv2d_backward_input", dy, inputShape, w, g);
        var dx = Tensor.Zeros(inputShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.Conv2dBackwardInput(dy.Contiguous(), w.Contiguous(), dx, g);
        return dx;
    }

    /// <summary>The gradient of conv2d with respect to its weight of shape <paramref name="weightShape"/>.</summary>
    public static Tensor Conv2dBackwardWeight(Tensor x, Tensor dy, int[] weightShape, Conv2dGeometry g)
    {
        using var _ = OpProfiler.Scope(OpFamily.Convolution);
        var dw = Tensor.Empty(weightShape, x.DType, x.Accelerator);
        CheckConv("conv2d_backward_weight", x.Shape, dw, g, x);
        CheckConvOutput("conv2d_backward_weight", dy, x.Shape, dw, g);
        if (x.Shape[0] == 0) x.Accelerator.Kernels.Fill(dw, 0);
        else x.Accelerator.Kernels.Conv2dBackwardWeight(x.Contiguous(), dy.Contiguous(), dw, g);
        return dw;
    }

    private static void CheckConv(string op, int[] xShape, Tensor w, Conv2dGeometry g, Tensor x)
    {
        CheckPair(op, x, w);
        string shapes = $"input {Shape.Format(xShape)} and weight {w.ShapeString}";
        if (xShape.Length != 4 || w.Rank != 4) throw new ShapeException($"{op}: {shapes} must both be 4-D");
        if (xShape[1] != w.Shape[1]) throw new ShapeException($"{op}: {shapes} disagree on input channels");
        if (g.StrideH < 1 || g.StrideW < 1 || g.DilationH < 1 || g.DilationW < 1 || g.PadH < 0 || g.PadW < 0)
            throw new ShapeException($"{op}: invalid geometry {g} for {shapes}");
        if (g.OutH(xShape[2], w.Shape[2]) < 1 || g.OutW(xShape[3], w.Shape[3]) < 1)
            throw new ShapeException($"{op}: {shapes} with {g} give an empty output");
    }

    private static void CheckConvOutput(string op, Tensor dy, int[] xShape, Tensor w, Conv2dGeometry g)
    {
        CheckPair(op, dy, w);
        int[] expected = [xShape[0], w.Shape[0], g.OutH(xShape[2], w.Shape[2]), g.OutW(xShape[3], w.Shape[3])];
        if (!dy.Shape.SequenceEqual(expected))
            throw new ShapeException($"{op}: output gradient {dy.ShapeString} should be {Shape.Format(expected)} for input {Shape.Format(xShape)} and weight {w.ShapeString}");
    }
}
