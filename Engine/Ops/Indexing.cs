namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>Joins tensors along an existing axis; all other sizes must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis)
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        if (tensors.Count == 0) throw new ShapeException("concat: no tensors given");
        var first = tensors[0];
        int a = Shape.Axis("concat", axis, first.Rank);
        int total = 0;
        foreach (var t in tensors)
        {
            CheckPair("concat", first, t);
            bool same = t.Rank == first.Rank && Enumerable.Range(0, t.Rank).All(i => i == a || t.Shape[i] == first.Shape[i]);
            if (!same) throw new ShapeException($"concat: shapes {first.ShapeString} and {t.ShapeString} differ outside axis {a}");
            total += t.Shape[a];
        }
        var shape = (int[])first.Shape.Clone();
        shape[a] = total;
        var y = first.NewEmpty(shape);
        int offset = 0;
        foreach (var t in tensors)
        {
            first.Accelerator.Kernels.Copy(t, y.Narrow(a, offset, t.Shape[a]));
            offset += t.Shape[a];
        }
        return y;
    }

    /// <summary>Joins same-shaped tensors along a new axis.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis)
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        if (tensors.Count == 0) throw new ShapeException("stack: no tensors given");
        int a = Shape.Axis("stack", axis, tensors[0].Rank + 1);
        foreach (var t in tensors)
            if (!t.Shape.SequenceEqual(tensors[0].Shape))
                throw new ShapeException($"stack: shapes {tensors[0].ShapeString} and {t.ShapeString} differ");
        return Concat(tensors.Select(t => t.Unsqueeze(a)).ToArray(), a);
    }

    /// <summary>y = x taken at the given positions along an axis (torch.index_select).</summary>
    public static Tensor IndexSelect(Tensor x, int axis, int[] index)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        int a = Shape.Axis("index_select", axis, x.Rank);
        CheckIndices("index_select", index, Shape.Format([index.Length]), x, a);
        var shape = (int[])x.Shape.Clone();
        shape[a] = index.Length;
        var y = x.NewEmpty(shape);
        x.Accelerator.Kernels.IndexSelect(Rank3(x.Contiguous(), a), index, Rank3(y, a));
        return y;
    }

    /// <summary>The backward of index_select: a zero tensor of the source shape with dy added at the indices.</summary>
    public static Tensor IndexAdd(Tensor dy, int axis, int[] index, int[] sourceShape)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        int a = Shape.Axis("index_add", axis, sourceShape.Length);
        var dx = Tensor.Zeros(sourceShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.IndexAdd(Rank3(dy.Contiguous(), a), index, Rank3(dx, a));
        return dx;
    }

    /// <summary>y[..., i, ...] = x[..., index[..., i, ...], ...] along an axis (torch.gather).</summary>
    public static Tensor Gather(Tensor x, int axis, IndexTensor index)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        int a = Shape.Axis("gather", axis, x.Rank);
        bool ok = index.Shape.Length == x.Rank && Enumerable.Range(0, x.Rank).All(i => i == a || index.Shape[i] == x.Shape[i]);
        if (!ok) throw new ShapeException($"gather: index shape {index.ShapeString} does not fit input {x.ShapeString} along axis {a}");
        CheckIndices("gather", index.Data, index.ShapeString, x, a);
        var y = x.NewEmpty(index.Shape);
        x.Accelerator.Kernels.Gather(Rank3(x.Contiguous(), a), index.Data, Rank3(y, a));
        return y;
    }

    /// <summary>The backward of gather: zeros of the source shape with dy added at the indices.</summary>
    public static Tensor ScatterAdd(Tensor dy, int axis, IndexTensor index, int[] sourceShape)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        int a = Shape.Axis("scatter_add", axis, sourceShape.Length);
        var dx = Tensor.Zeros(sourceShape, dy.DType, dy.Accelerator);
        dy.Accelerator.Kernels.ScatterAdd(Rank3(dy.Contiguous(), a), index.Data, Rank3(dx, a));
        return dx;
    }

    private static void CheckIndices(string op, int[] index, string indexShape, Tensor x, int axis)
    {
        foreach (var i in index)
            if (i < 0 || i >= x.Shape[axis])
                throw new ShapeException($"{op}: index {i} (indices {indexShape}) is out of range for axis {axis} of input {x.ShapeString}");
    }

    /// <summary>A contiguous tensor viewed as [before axis, axis, after axis].</summary>
    private static Tensor Rank3(Tensor t, int axis)
    {
        int outer = 1, rest = 1;
        for (int i = 0; i < axis; i++) outer *= t.Shape[i];
        for (int i = axis + 1; i < t.Rank; i++) rest *= t.Shape[i];
        return t.Reshape(outer, t.Shape[axis], rest);
    }
}
