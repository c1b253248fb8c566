namespace IlgpuSeg.Engine;

/// <summary>
/// Walks a shape shared by several strided operands as rows of the innermost axis. Axes that are
/// contiguous across every operand are merged first, so a contiguous tensor is one long row.
/// </summary>
internal sealed class StridedLayout
{
    private readonly int[] _shape;
    private readonly int[][] _strides;
    private readonly int[] _offsets;

    public StridedLayout(int[] shape, params Tensor[] operands)
    {
        var (dims, strides) = Shape.MergeAxes(shape, operands);
        // A one-element shape still has one row of one element.
        _shape = dims.Length == 0 ? [1] : dims;
        _strides = dims.Length == 0 ? strides.Select(_ => new[] { 1 }).ToArray() : strides;
        _offsets = operands.Select(o => o.Offset).ToArray();
        Inner = _shape[^1];
        Rows = Shape.Count(_shape) / Math.Max(1, Inner);
        if (Inner == 0) Rows = 0;
    }

    /// <summary>Length of a row (the merged innermost axis).</summary>
    public int Inner { get; }

    public int Rows { get; }

    /// <summary>Stride of operand k along a row.</summary>
    public int InnerStride(int k) => _strides[k][^1];

    /// <summary>Buffer offset of the first element of a row for operand k.</summary>
    public int RowStart(int k, int row)
    {
        int offset = _offsets[k];
        var strides = _strides[k];
        for (int d = _shape.Length - 2; d >= 0; d--)
        {
            int i = row % _shape[d];
            row /= _shape[d];
            offset += i * strides[d];
        }
        return offset;
    }

    /// <summary>Row grain giving chunks of about 32k elements.</summary>
    public int RowGrain => CpuParallel.Grain(Inner);
}
