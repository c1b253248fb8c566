using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    public static Variable Reshape(Variable x, params int[] shape) =>
        Tape.Record("reshape", x.Data.Reshape(shape), [x], g => [g.Reshape(x.Shape)]);

    public static Variable Permute(Variable x, params int[] dims)
    {
        var y = x.Data.Permute(dims);
        var inverse = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++) inverse[Shape.Axis("permute", dims[i], dims.Length)] = i;
        return Tape.Record("permute", y, [x], g => [g.Permute(inverse)]);
    }

    public static Variable Transpose(Variable x, int axis0, int axis1) =>
        Tape.Record("transpose", x.Data.Transpose(axis0, axis1), [x], g => [g.Transpose(axis0, axis1)]);

    /// <summary>A range along an axis; the gradient is zero outside it.</summary>
    public static Variable Narrow(Variable x, int axis, int start, int length) =>
        Tape.Record("narrow", x.Data.Narrow(axis, start, length), [x], g =>
        {
            var dx = Tensor.Zeros(x.Shape, g.DType, g.Accelerator);
            dx.Narrow(axis, start, length).CopyFrom(g);
            return [dx];
        });

    public static Variable Slice(Variable x, int axis, int start, int end, int step = 1) =>
        Tape.Record("slice", x.Data.Slice(axis, start, end, step), [x], g =>
        {
            var dx = Tensor.Zeros(x.Shape, g.DType, g.Accelerator);
            dx.Slice(axis, start, end, step).CopyFrom(g);
            return [dx];
        });

    public static Variable Expand(Variable x, params int[] shape) =>
        Tape.Record("expand", x.Data.Expand(shape), [x], g => [Ops.SumTo(g, x.Shape)]);

    public static Variable Squeeze(Variable x, int axis) =>
        Tape.Record("squeeze", x.Data.Squeeze(axis), [x], g => [g.Reshape(x.Shape)]);

    public static Variable Unsqueeze(Variable x, int axis) =>
        Tape.Record("unsqueeze", x.Data.Unsqueeze(axis), [x], g => [g.Reshape(x.Shape)]);

    public static Variable Contiguous(Variable x) =>
        x.Data.IsContiguous ? x : Tape.Record("contiguous", x.Data.Contiguous(), [x], g => [g]);
}
