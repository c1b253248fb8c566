namespace IlgpuSeg.Data.Dataset;

/// <summary>
/// A 3D volume in NIfTI order: voxel (x, y, z) is at index x + Width·(y + Height·z), x fastest. Axial slice z
/// is therefore one contiguous block whose rows are y and columns x (see <see cref="Slice2D{T}"/>).
/// </summary>
public sealed class Volume<T> where T : unmanaged
{
    public Volume(int width, int height, int depth, T[] data)
    {
        if (width < 1 || height < 1 || depth < 1) throw new ArgumentException($"volume size {width}x{height}x{depth} must be positive");
        if (data.LongLength != (long)width * height * depth)
            throw new ArgumentException($"{data.LongLength} values for a {width}x{height}x{depth} volume");
        Width = width;
        Height = height;
        Depth = depth;
        Data = data;
    }

    /// <summary>Size along x (NIfTI axis 0): the slice columns.</summary>
    public int Width { get; }

    /// <summary>Size along y (NIfTI axis 1): the slice rows.</summary>
    public int Height { get; }

    /// <summary>Number of axial slices (NIfTI axis 2).</summary>
    public int Depth { get; }

    public T[] Data { get; }

    public int SliceLength => Width * Height;

    public T this[int x, int y, int z]
    {
        get => Data[x + Width * (y + Height * z)];
        set => Data[x + Width * (y + Height * z)] = value;
    }

    /// <summary>The values of slice z without copying.</summary>
    public ReadOnlySpan<T> SliceSpan(int z)
    {
        if ((uint)z >= (uint)Depth) throw new ArgumentOutOfRangeException(nameof(z), $"slice {z} outside 0..{Depth - 1}");
        return Data.AsSpan(z * SliceLength, SliceLength);
    }

    /// <summary>A copy of axial slice z as an [H = y, W = x] slice.</summary>
    public Slice2D<T> Slice(int z) => new(Height, Width, SliceSpan(z).ToArray());

    public bool SameShape<TOther>(Volume<TOther> other) where TOther : unmanaged =>
        Width == other.Width && Height == other.Height && Depth == other.Depth;
}
