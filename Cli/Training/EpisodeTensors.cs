using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Training;

/// <summary>Turns 2D slices into the tensors the segmenter takes, resized to the training input size.</summary>
public static class EpisodeTensors
{
    /// <summary>A z-scored slice as [1, 3, size, size] (grey repeated to 3 channels), bilinearly resized.</summary>
    public static Tensor Image(Slice2D<float> slice, int size, Accelerator acc)
    {
        var t = Tensor.FromArray(slice.Data, [1, 1, slice.Height, slice.Width], acc);
        if (slice.Height != size || slice.Width != size) t = Ops.ResizeBilinear(t, size, size, alignCorners: false);
        return t.Expand(1, 3, size, size).Contiguous();
    }

    /// <summary>A 0/1 mask as [1, 1, size, size] floats (resized bilinearly and thresholded at 0.5 when needed).</summary>
    public static Tensor Mask(Slice2D<byte> mask, int size, Accelerator acc)
    {
        var t = Tensor.FromArray(Array.ConvertAll(mask.Data, v => (float)v), [1, 1, mask.Height, mask.Width], acc);
        if (mask.Height == size && mask.Width == size) return t;
        return Ops.Unary(UnaryOp.Step, Ops.AddScalar(Ops.ResizeBilinear(t, size, size, alignCorners: false), -0.5));
    }

    /// <summary>Class indices [1, size, size] (0 bg, 1 fg) of a mask tensor from <see cref="Mask"/>.</summary>
    public static IndexTensor Label(Tensor mask) =>
        new(Array.ConvertAll(mask.ToArray<float>(), v => v > 0.5f ? 1 : 0), [1, mask.Shape[2], mask.Shape[3]]);
}
