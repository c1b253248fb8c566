namespace IlgpuSeg.Engine;

/// <summary>Shape arithmetic shared by tensors and ops.</summary>
public static class Shape
{
    public static int Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"shape {Format(shape)} has more than 2^31-1 elements");
        return (int)n;
    }

    /// <summary>Row-major strides of a contiguous tensor of this shape.</summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(1, shape[i]);
        }
        return strides;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>NumPy broadcasting: align from the right, sizes must match or be 1.</summary>
    public static int[] Broadcast(string op, int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ShapeException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>
    /// Walks <paramref name="shape"/> for several strided operands with as few axes as possible: size-1 axes are
    /// dropped and neighbouring axes merge when they are contiguous for every operand. Returns the merged sizes
    /// and, per operand, the merged strides (empty for a one-element shape).
    /// </summary>
    public static (int[] Sizes, int[][] Strides) MergeAxes(int[] shape, Tensor[] operands)
    {
        var dims = new List<int>();
        var strides = operands.Select(_ => new List<int>()).ToArray();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            bool merge = dims.Count > 0;
            for (int k = 0; k < operands.Length && merge; k++)
                merge = strides[k][^1] == operands[k].Strides[d] * shape[d];
            if (merge)
            {
                dims[^1] *= shape[d];
                for (int k = 0; k < operands.Length; k++) strides[k][^1] = operands[k].Strides[d];
            }
            else
            {
                dims.Add(shape[d]);
                for (int k = 0; k < operands.Length; k++) strides[k].Add(operands[k].Strides[d]);
            }
        }
        return (dims.ToArray(), strides.Select(s => s.ToArray()).ToArray());
    }

    /// <summary>Turns a possibly negative axis into 0..rank-1.</summary>
    public static int Axis(string op, int axis, int rank)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ShapeException($"{op}: axis {axis} is out of range for rank {rank}");
        return a;
    }
}

/// <summary>Bad shapes, dtypes or indices given to an op; the message names the op and the shapes.</summary>
public sealed class ShapeException(string message) : ArgumentException(message);
