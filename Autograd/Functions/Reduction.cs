using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    public static Variable Sum(Variable x) => Sum(x, AllAxes(x));

    /// <summary>Sum over axes; the gradient is the upstream gradient broadcast back over them.</summary>
    public static Variable Sum(Variable x, int[] axes, bool keepDim = false) =>
        Tape.Record("sum", Ops.Sum(x.Data, axes, keepDim), [x], g => [BroadcastBack(g, x.Shape, axes)]);

    public static Variable Mean(Variable x) => Mean(x, AllAxes(x));

    public static Variable Mean(Variable x, int[] axes, bool keepDim = false)
    {
        var y = Ops.Mean(x.Data, axes, keepDim);
        double scale = y.Count == 0 ? 0 : (double)y.Count / Math.Max(1, x.Data.Count);
        return Tape.Record("mean", y, [x], g => [BroadcastBack(Ops.MulScalar(g, scale), x.Shape, axes)]);
    }

    /// <summary>Variance with Bessel's correction; d var / dx = 2 (x − mean) / (n − correction).</summary>
    public static Variable Variance(Variable x, int[] axes, int correction = 1, bool keepDim = false)
    {
        var y = Ops.Variance(x.Data, axes, correction, keepDim);
        long n = axes.Select(a => Shape.Axis("var", a, x.Rank)).Distinct().Aggregate(1L, (p, a) => p * x.Shape[a]);
        return Tape.Record("var", y, [x], g =>
        {
            var centred = Ops.Sub(x.Data, Ops.Mean(x.Data, axes, keepDim: true));
            return [Ops.Mul(BroadcastBack(g, x.Shape, axes), Ops.MulScalar(centred, 2.0 / Math.Max(0, n - correction)))];
        });
    }

    /// <summary>Maximum along an axis; the gradient goes to the first position attaining it.</summary>
    public static (Variable Values, IndexTensor Indices) Max(Variable x, int axis, bool keepDim = false)
    {
        int a = Shape.Axis("max", axis, x.Rank);
        var (values, indices) = Ops.Max(x.Data, a, keepDim);
        var keptShape = x.Shape.Select((d, i) => i == a ? 1 : d).ToArray();
        var keptIndices = new IndexTensor(indices.Data, keptShape);
        var v = Tape.Record("max", values, [x], g => [Ops.ScatterAdd(g.Reshape(keptShape), a, keptIndices, x.Shape)]);
        return (v, indices);
    }

    private static int[] AllAxes(Variable x) => Enumerable.Range(0, x.Rank).ToArray();

    /// <summary>Reinserts reduced axes as size 1 and broadcasts to the input shape.</summary>
    private static Tensor BroadcastBack(Tensor g, int[] shape, int[] axes)
    {
        var reduced = axes.Select(a => Shape.Axis("reduce", a, shape.Length)).ToHashSet();
        var kept = shape.Select((d, i) => reduced.Contains(i) ? 1 : d).ToArray();
        return g.Reshape(kept).Expand(shape);
    }

    /// <summary>
    /// L2 norm along an axis (torch.linalg.vector_norm). Its gradient x/‖x‖ is taken as 0 where the norm is 0,
    /// as PyTorch does, so an all-zero vector (e.g. the prototype of an empty mask) does not poison training.
    /// </summary>
    public static Variable Norm(Variable x, int axis, bool keepDim = false)
    {
        int a = Shape.Axis("norm", axis, x.Rank);
        var norm = Ops.Sqrt(Ops.Sum(Ops.Mul(x.Data, x.Data), [a], keepDim: true));
        var y = keepDim ? norm : norm.Squeeze(a);
        return Tape.Record("norm", y, [x], g =>
        {
            var zero = Ops.AddScalar(Ops.Neg(Ops.Unary(UnaryOp.Step, norm)), 1);
            var direction = Ops.Div(x.Data, Ops.Add(norm, zero));
            return [Ops.Mul(keepDim ? g : g.Unsqueeze(a), direction)];
        });
    }
}
