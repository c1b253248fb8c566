using System.Buffers.Binary;

namespace IlgpuSeg.Data;

/// <summary>Conversion between raw voxel bytes (either byte order) and values.</summary>
public static class NiftiVoxels
{
    /// <summary>Raw values times slope plus intercept, in file order (x fastest).</summary>
    public static double[] ToDouble(ReadOnlySpan<byte> raw, NiftiDataType type, bool bigEndian, double slope = 1, double inter = 0)
    {
        var size = type.SizeInBytes();
        var values = new double[raw.Length / size];
        for (var i = 0; i < values.Length; i++)
            values[i] = Read(raw.Slice(i * size, size), type, bigEndian) * slope + inter;
        return values;
    }

    /// <summary>Encodes values little-endian. Integer types need whole numbers in range: no silent rounding or clipping.</summary>
    public static byte[] Encode(ReadOnlySpan<double> values, NiftiDataType type)
    {
        var size = type.SizeInBytes();
        var raw = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
            Write(raw.AsSpan(i * size, size), type, values[i], i);
        return raw;
    }

    /// <summary>A copy of big-endian voxel bytes in little-endian order.</summary>
    public static byte[] SwapBytes(ReadOnlySpan<byte> raw, NiftiDataType type)
    {
        var size = type.SizeInBytes();
        var swapped = raw.ToArray();
        for (var i = 0; i < swapped.Length; i += size)
            swapped.AsSpan(i, size).Reverse();
        return swapped;
    }

    private static double Read(ReadOnlySpan<byte> b, NiftiDataType type, bool big) => type switch
    {
        NiftiDataType.UInt8 => b[0],
        NiftiDataType.Int8 => (sbyte)b[0],
        NiftiDataType.Int16 => big ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
        NiftiDataType.UInt16 => big ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b),
        NiftiDataType.Int32 => big ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
        NiftiDataType.UInt32 => big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b),
        NiftiDataType.Float32 => big ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
        NiftiDataType.Float64 => big ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static void Write(Span<byte> b, NiftiDataType type, double v, int index)
    {
        switch (type)
        {
            case NiftiDataType.UInt8: b[0] = (byte)Whole(v, byte.MinValue, byte.MaxValue, type, index); break;
            case NiftiDataType.Int8: b[0] = (byte)(sbyte)Whole(v, sbyte.MinValue, sbyte.MaxValue, type, index); break;
            case NiftiDataType.Int16: BinaryPrimitives.WriteInt16LittleEndian(b, (short)Whole(v, short.MinValue, short.MaxValue, type, index)); break;
            case NiftiDataType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)Whole(v, ushort.MinValue, ushort.MaxValue, type, index)); break;
            case NiftiDataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(b, (int)Whole(v, int.MinValue, int.MaxValue, type, index)); break;
            case NiftiDataType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)Whole(v, uint.MinValue, uint.MaxValue, type, index)); break;
            case NiftiDataType.Float32: BinaryPrimitives.WriteSingleLittleEndian(b, (float)v); break;
            case NiftiDataType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(b, v); break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    private static long Whole(double v, long min, long max, NiftiDataType type, int index)
    {
        if (v != Math.Floor(v) || v < min || v > max)
            throw new ArgumentException($"value {v} at index {index} is not a whole number in the {type.Name()} range [{min}, {max}]");
        return (long)v;
    }
}
