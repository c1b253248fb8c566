namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// One 2D axial slice, row-major: element (y, x) is at index y·Width + x. Rows are the NIfTI y axis and
/// columns the x axis, which is the [H, W] layout SSL-ALPNet gets from SimpleITK's (z, y, x) array, so
/// in-plane geometry (rotation centre, shift directions) means the same as in the reference.
/// </summary>
public sealed class Slice2D<T> where T : unmanaged
{
    public Slice2D(int height, int width, T[] data)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"slice size {height}x{width} must be positive");
        if (data.Length != height * width)
            throw new ArgumentException($"{data.Length} values for a {height}x{width} slice");
        Height = height;
        Width = width;
        Data = data;
    }

    public Slice2D(int height, int width) : this(height, width, new T[height * width]) { }

    public int Height { get; }
    public int Width { get; }

    /// <summary>The values, row-major (x fastest).</summary>
    public T[] Data { get; }

    public T this[int y, int x]
    {
        get => Data[y * Width + x];
        set => Data[y * Width + x] = value;
    }

    public Slice2D<T> Clone() => new(Height, Width, (T[])Data.Clone());

    public bool SameSize<TOther>(Slice2D<TOther> other) where TOther : unmanaged =>
        Height == other.Height && Width == other.Width;
}
