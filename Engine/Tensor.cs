namespace IlgpuSeg.Engine;

/// <summary>
/// A strided view into a buffer on one accelerator: shape, strides and offset in elements, and a dtype.
/// Views (reshape of contiguous data, permute, narrow, expand, squeeze) share the buffer; ops write fresh
/// contiguous tensors. No gradients here: the Autograd project wraps tensors.
/// </summary>
public sealed partial class Tensor
{
    public Tensor(MemoryBuffer buffer, int[] shape, int[] strides, int offset)
    {
        if (shape.Length != strides.Length) throw new ArgumentException("shape and strides differ in rank");
        _buffer = buffer;
        Shape = shape;
        Strides = strides;
        Offset = offset;
    }

    private readonly MemoryBuffer _buffer;

    /// <summary>The memory behind this view; throws once it went back to the pool (its tensor scope ended, or backward freed it).</summary>
    public MemoryBuffer Buffer => _buffer.IsReleased
        ? throw new InvalidOperationException($"tensor {ShapeString} ({_buffer.DType.Name()}) was released: its tensor scope ended, or backward "
            + "freed it as an intermediate value; TensorScope.Keep or Clone it before then to use it afterwards")
        : _buffer;

    public int[] Shape { get; }

    /// <summary>Element strides; 0 on broadcast axes.</summary>
    public int[] Strides { get; }

    /// <summary>Offset of element [0, 0, ...] in the buffer, in elements.</summary>
    public int Offset { get; }

    public DType DType => Buffer.DType;

    public Accelerator Accelerator => Buffer.Accelerator;

    public int Rank => Shape.Length;

    public int Count => Engine.Shape.Count(Shape);

    public int Size(int axis) => Shape[Engine.Shape.Axis("size", axis, Rank)];

    /// <summary>True when elements are laid out row-major with no gaps (offset may be anything).</summary>
    public bool IsContiguous
    {
        get
        {
            int expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape[i] != 1 && Strides[i] != expected) return false;
                expected *= Shape[i];
            }
            return true;
        }
    }

    public string ShapeString => Engine.Shape.Format(Shape);

    /// <summary>True once the buffer went back to its pool (the tensor scope that owned it ended).</summary>
    public bool IsReleased => _buffer.IsReleased;

    public override string ToString() => $"Tensor({ShapeString}, {_buffer.DType.Name()}, {_buffer.Accelerator.AcceleratorType}{(_buffer.IsReleased ? ", released" : "")})";

    /// <summary>A new contiguous tensor with undefined contents (recycled memory inside a <see cref="TensorScope"/>).</summary>
    public static Tensor Empty(int[] shape, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        using var _ = OpProfiler.Allocation();
        foreach (var d in shape)
            if (d < 0) throw new ShapeException($"empty: negative size in shape {Engine.Shape.Format(shape)}");
        var acc = accelerator ?? Context.Default.Cpu;
        var buffer = acc.Allocate(dtype, Engine.Shape.Count(shape));
        return new Tensor(buffer, (int[])shape.Clone(), Engine.Shape.ContiguousStrides(shape), buffer.Start);
    }

    /// <summary>A new tensor with this one's dtype and accelerator.</summary>
    public Tensor NewEmpty(params int[] shape) => Empty(shape, DType, Accelerator);

    // ---- views ----

    /// <summary>Same data, new shape; a view when the layout allows, else a contiguous copy. One size may be -1.</summary>
    public Tensor Reshape(params int[] shape)
    {
        shape = InferSize("reshape", shape);
        if (IsContiguous) return new Tensor(Buffer, shape, Engine.Shape.ContiguousStrides(shape), Offset);
        return Contiguous().Reshape(shape);
    }

    private int[] InferSize(string op, int[] shape)
    {
        shape = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (infer >= 0) throw new ShapeException($"{op}: more than one -1 in {Engine.Shape.Format(shape)}");
                infer = i;
            }
            else if (shape[i] < 0) throw new ShapeException($"{op}: negative size in {Engine.Shape.Format(shape)}");
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Count % known != 0)
                throw new ShapeException($"{op}: cannot view {ShapeString} as {Engine.Shape.Format(shape)}");
            shape[infer] = (int)(Count / known);
        }
        if (Engine.Shape.Count(shape) != Count)
            throw new ShapeException($"{op}: cannot view {ShapeString} ({Count} elements) as {Engine.Shape.Format(shape)}");
        return shape;
    }

    /// <summary>Reorders axes: result axis i is this tensor's axis dims[i].</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ShapeException($"permute: {dims.Length} axes given for shape {ShapeString}");
        var seen = new bool[Rank];
        var shape = new int[Rank];
        var strides = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = Engine.Shape.Axis("permute", dims[i], Rank);
            if (seen[d]) throw new ShapeException($"permute: axis {d} repeated for shape {ShapeString}");
            seen[d] = true;
            shape[i] = Shape[d];
            strides[i] = Strides[d];
        }
        return new Tensor(Buffer, shape, strides, Offset);
    }

    public Tensor Transpose(int axis0, int axis1)
    {
        var dims = Enumerable.Range(0, Rank).ToArray();
        int a = Engine.Shape.Axis("transpose", axis0, Rank), b = Engine.Shape.Axis("transpose", axis1, Rank);
        (dims[a], dims[b]) = (dims[b], dims[a]);
        return Permute(dims);
    }

    /// <summary>Elements start..start+length-1 along one axis, as a view.</summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        int a = Engine.Shape.Axis("narrow", axis, Rank);
        if (start < 0 || length < 0 || start + length > Shape[a])
            throw new ShapeException($"narrow: range [{start}, {start + length}) is outside axis {a} of shape {ShapeString}");
        var shape = (int[])Shape.Clone();
        shape[a] = length;
        return new Tensor(Buffer, shape, (int[])Strides.Clone(), Offset + start * Strides[a]);
    }

    /// <summary>Every step-th element of [start, end) along an axis, as a view.</summary>
    public Tensor Slice(int axis, int start, int end, int step = 1)
    {
        int a = Engine.Shape.Axis("slice", axis, Rank);
        if (step < 1 || start < 0 || end > Shape[a] || start > end)
            throw new ShapeException($"slice: [{start}:{end}:{step}] is invalid for axis {a} of shape {ShapeString}");
        var shape = (int[])Shape.Clone();
        var strides = (int[])Strides.Clone();
        shape[a] = (end - start + step - 1) / step;
        strides[a] = Strides[a] * step;
        return new Tensor(Buffer, shape, strides, Offset + start * Strides[a]);
    }

    /// <summary>Broadcasts size-1 axes (and new leading axes) to the given shape with stride 0, as a view.</summary>
    public Tensor Expand(params int[] shape)
    {
        if (shape.Length < Rank) throw new ShapeException($"expand: cannot expand {ShapeString} to fewer axes {Engine.Shape.Format(shape)}");
        int lead = shape.Length - Rank;
        var strides = new int[shape.Length];
        var newShape = (int[])shape.Clone();
        for (int i = 0; i < shape.Length; i++)
        {
            if (i < lead)
            {
                if (shape[i] < 0) throw new ShapeException($"expand: -1 not allowed for new axis in {Engine.Shape.Format(shape)}");
                continue;
            }
            int own = Shape[i - lead];
            if (shape[i] == -1) newShape[i] = own;
            if (own == newShape[i]) strides[i] = Strides[i - lead];
            else if (own == 1) strides[i] = 0;
            else throw new ShapeException($"expand: cannot expand {ShapeString} to {Engine.Shape.Format(shape)}");
        }
        return new Tensor(Buffer, newShape, strides, Offset);
    }

    /// <summary>Removes one axis of size 1.</summary>
    public Tensor Squeeze(int axis)
    {
        int a = Engine.Shape.Axis("squeeze", axis, Rank);
        if (Shape[a] != 1) throw new ShapeException($"squeeze: axis {a} of shape {ShapeString} is not 1");
        return new Tensor(Buffer, Shape.Where((_, i) => i != a).ToArray(), Strides.Where((_, i) => i != a).ToArray(), Offset);
    }

    /// <summary>Inserts an axis of size 1 before position <paramref name="axis"/> (0..rank).</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = Engine.Shape.Axis("unsqueeze", axis, Rank + 1);
        var shape = Shape.ToList();
        var strides = Strides.ToList();
        shape.Insert(a, 1);
        strides.Insert(a, a < Rank ? Strides[a] * Shape[a] : 1);
        return new Tensor(Buffer, shape.ToArray(), strides.ToArray(), Offset);
    }

    /// <summary>This tensor if already contiguous, else a contiguous copy.</summary>
    public Tensor Contiguous() => IsContiguous ? this : Clone();

    /// <summary>A contiguous copy.</summary>
    public Tensor Clone()
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        var result = NewEmpty(Shape);
        Accelerator.Kernels.Copy(this, result);
        return result;
    }

    /// <summary>Copies <paramref name="source"/> (same shape, broadcastable) into this tensor, which may be a view.</summary>
    public void CopyFrom(Tensor source)
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        if (source.DType != DType) throw new ShapeException($"copy: dtype {source.DType.Name()} into {DType.Name()}");
        if (source.Accelerator != Accelerator) throw new ShapeException("copy: tensors live on different accelerators");
        Accelerator.Kernels.Copy(source.Expand(Shape), this);
    }

    /// <summary>A contiguous copy with another dtype.</summary>
    public Tensor To(DType dtype)
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        if (dtype == DType) return Clone();
        var result = Empty(Shape, dtype, Accelerator);
        Accelerator.Kernels.Cast(this, result);
        return result;
    }

    /// <summary>A copy on another accelerator.</summary>
    public Tensor To(Accelerator accelerator)
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        if (accelerator == Accelerator) return Clone();
        return DType == DType.Float32
            ? FromArray(ToArray<float>(), Shape, accelerator)
            : FromArray(ToArray<double>(), Shape, accelerator);
    }
}
