namespace IlgpuSeg.Engine;

/// <summary>
/// Walks a shape shared by several strided operands as rows of the innermost axis. Axes that are
/// contiguous across every operand are merged first, so a contiguous tensor is one long row; a row longer
/// than <see cref="PieceLength"/> is walked as pieces of that length, so the threads share it.
/// </summary>
internal sealed class StridedLayout
{
    private const int PieceLength = 1 << 15;

    private readonly int[] _shape;
    private readonly int[][] _strides;
    private readonly int[] _offsets;
    private readonly int _rowLength, _pieces;

    public StridedLayout(int[] shape, params Tensor[] operands)
    {
        var (dims, strides) = Shape.MergeAxes(shape, operands);
        // A one-element shape still has one row of one element.
        _shape = dims.Length == 0 ? [1] : dims;
        _strides = dims.Length == 0 ? strides.Select(_ => new[] { 1 }).ToArray() : strides;
        _offsets = operands.Select(o => o.Offset).ToArray();
        _rowLength = _shape[^1];
        _pieces = Math.Max(1, (_rowLength + PieceLength - 1) / PieceLength);
        Inner = Math.Min(_rowLength, PieceLength);
        Rows = _rowLength == 0 ? 0 : Shape.Count(_shape) / _rowLength * _pieces;
    }

    /// <summary>Length of the longest row (a piece of the merged innermost axis).</summary>
    public int Inner { get; }

    public int Rows { get; }

    /// <summary>Length of row <paramref name="row"/>: <see cref="Inner"/>, or less for the last piece of an axis.</summary>
    public int RowLength(int row) => Math.Min(PieceLength, _rowLength - row % _pieces * PieceLength);

    /// <summary>Stride of operand k along a row.</summary>
    public int InnerStride(int k) => _strides[k][^1];

    /// <summary>Buffer offset of the first element of a row for operand k.</summary>
    public int RowStart(int k, int row)
    {
        var strides = _strides[k];
        int offset = _offsets[k] + row % _pieces * PieceLength * strides[^1];
        row /= _pieces;
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
