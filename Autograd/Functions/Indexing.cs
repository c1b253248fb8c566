using IlgpuSeg.Engine;

namespace IlgpuSeg.Autograd;

public static partial class F
{
    /// <summary>Concatenation along an axis; each input's gradient is its slab of the output gradient.</summary>
    public static Variable Concat(IReadOnlyList<Variable> xs, int axis)
    {
        var y = Ops.Concat(xs.Select(x => x.Data).ToArray(), axis);
        int a = Shape.Axis("concat", axis, y.Rank);
        return Tape.Record("concat", y, xs.ToArray(), g =>
        {
            var grads = new Tensor?[xs.Count];
            int offset = 0;
            for (int i = 0; i < xs.Count; i++)
            {
                int size = xs[i].Shape[a];
                grads[i] = xs[i].RequiresGrad ? g.Narrow(a, offset, size) : null;
                offset += size;
            }
            return grads;
        });
    }

    public static Variable Stack(IReadOnlyList<Variable> xs, int axis)
    {
        if (xs.Count == 0) throw new ShapeException("stack: no tensors given");
        int a = Shape.Axis("stack", axis, xs[0].Rank + 1);
        foreach (var x in xs)
            if (!x.Shape.SequenceEqual(xs[0].Shape))
                throw new ShapeException($"stack: shapes {xs[0].ShapeString} and {x.ShapeString} differ");
        return Concat(xs.Select(x => Unsqueeze(x, a)).ToArray(), a);
    }

    public static Variable IndexSelect(Variable x, int axis, int[] index) =>
        Tape.Record("index_select", Ops.IndexSelect(x.Data, axis, index), [x], g => [Ops.IndexAdd(g, axis, index, x.Shape)]);

    public static Variable Gather(Variable x, int axis, IndexTensor index) =>
        Tape.Record("gather", Ops.Gather(x.Data, axis, index), [x], g => [Ops.ScatterAdd(g, axis, index, x.Shape)]);
}
