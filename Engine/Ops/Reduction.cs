namespace IlgpuSeg.Engine;

public static partial class Ops
{
    /// <summary>Sum of every element, as a rank-0 tensor.</summary>
    public static Tensor Sum(Tensor x) => Sum(x, Enumerable.Range(0, x.Rank).ToArray());

    /// <summary>Sum over the given axes (kept as size 1 when keepDim).</summary>
    public static Tensor Sum(Tensor x, int[] axes, bool keepDim = false)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        var (rows, perm, reduced) = ToRows("sum", x, axes);
        var y = x.NewEmpty(rows.Shape[0]);
        x.Accelerator.Kernels.SumLastAxis(rows, y);
        return y.Reshape(ReducedShape(x.Shape, reduced, keepDim));
    }

    public static Tensor Mean(Tensor x) => Mean(x, Enumerable.Range(0, x.Rank).ToArray());

    public static Tensor Mean(Tensor x, int[] axes, bool keepDim = false)
    {
        long n = ReducedCount(x, axes);
        return MulScalar(Sum(x, axes, keepDim), 1.0 / n);
    }

    /// <summary>Variance over the axes with Bessel's correction (divide by n − correction).</summary>
    public static Tensor Variance(Tensor x, int[] axes, int correction = 1, bool keepDim = false)
    {
        long n = ReducedCount(x, axes);
        var centred = Sub(x, Mean(x, axes, keepDim: true));
        return MulScalar(Sum(Mul(centred, centred), axes, keepDim), 1.0 / Math.Max(0, n - correction));
    }

    /// <summary>Maximum along one axis and the index of its first occurrence.</summary>
    public static (Tensor Values, IndexTensor Indices) Max(Tensor x, int axis, bool keepDim = false)
    {
        using var _ = OpProfiler.Scope(OpFamily.PrototypeHead);
        int a = Shape.Axis("max", axis, x.Rank);
        if (x.Shape[a] == 0) throw new ShapeException($"max: axis {a} of shape {x.ShapeString} is empty");
        var (rows, _, reduced) = ToRows("max", x, [a]);
        var y = x.NewEmpty(rows.Shape[0]);
        var argmax = new int[rows.Shape[0]];
        x.Accelerator.Kernels.MaxLastAxis(rows, y, argmax);
        var shape = ReducedShape(x.Shape, reduced, keepDim);
        return (y.Reshape(shape), new IndexTensor(argmax, shape));
    }

    /// <summary>Sums a broadcast result back to a shape it was broadcast from (the backward of broadcasting).</summary>
    public static Tensor SumTo(Tensor x, int[] shape)
    {
        if (x.Shape.SequenceEqual(shape)) return x;
        int lead = x.Rank - shape.Length;
        if (lead < 0) throw new ShapeException($"sum_to: {x.ShapeString} has fewer axes than {Shape.Format(shape)}");
        var axes = new List<int>();
        for (int i = 0; i < x.Rank; i++)
        {
            if (i < lead) axes.Add(i);
            else if (shape[i - lead] == 1 && x.Shape[i] != 1) axes.Add(i);
            else if (shape[i - lead] != x.Shape[i])
                throw new ShapeException($"sum_to: {x.ShapeString} was not broadcast from {Shape.Format(shape)}");
        }
        return Sum(x, axes.ToArray(), keepDim: true).Reshape(shape);
    }

    private static long ReducedCount(Tensor x, int[] axes)
    {
        long n = 1;
        foreach (var a in axes.Select(a => Shape.Axis("reduce", a, x.Rank)).Distinct()) n *= x.Shape[a];
        return n;
    }

    /// <summary>Moves the reduced axes last and views x as a contiguous [kept, reduced] matrix.</summary>
    private static (Tensor Rows, int[] Perm, bool[] Reduced) ToRows(string op, Tensor x, int[] axes)
    {
        var reduced = new bool[x.Rank];
        foreach (var axis in axes)
        {
            int a = Shape.Axis(op, axis, x.Rank);
            if (reduced[a]) throw new ShapeException($"{op}: axis {a} repeated for shape {x.ShapeString}");
            reduced[a] = true;
        }
        var perm = Enumerable.Range(0, x.Rank).Where(i => !reduced[i]).Concat(Enumerable.Range(0, x.Rank).Where(i => reduced[i])).ToArray();
        int outer = 1, inner = 1;
        for (int i = 0; i < x.Rank; i++)
            if (reduced[i]) inner *= x.Shape[i];
            else outer *= x.Shape[i];
        return (x.Permute(perm).Contiguous().Reshape(outer, inner), perm, reduced);
    }

    private static int[] ReducedShape(int[] shape, bool[] reduced, bool keepDim) =>
        keepDim ? shape.Select((d, i) => reduced[i] ? 1 : d).ToArray() : shape.Where((_, i) => !reduced[i]).ToArray();
}
