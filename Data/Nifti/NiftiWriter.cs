using System.IO.Compression;

namespace IlgpuSeg.Data;

/// <summary>
/// Writes a single-file NIfTI-1 image, little-endian, gzip-compressed when the path ends in ".gz".
/// The header is the image's own (geometry kept); extensions are not written: the bytes between the header
/// and vox_offset are zero, which the standard reads as "no extensions".
/// </summary>
internal static class NiftiWriter
{
    public static void Write(string path, NiftiImage image)
    {
        var header = image.Header.Clone();
        header.Magic = "n+1\0"u8.ToArray();
        header.BitPix = (short)(8 * image.DataType.SizeInBytes());
        var dataBytes = NiftiHeaderValidation.Validate(header, path);
        if (dataBytes != image.RawBytes.Length)
            throw new InvalidOperationException($"{path}: header describes {dataBytes} data bytes but the image holds {image.RawBytes.Length}");
        var offset = NiftiHeaderValidation.DataOffset(header);
        header.VoxOffset = offset;

        var data = image.BigEndian ? NiftiVoxels.SwapBytes(image.RawBytes, image.DataType) : image.RawBytes;
        using var file = File.Create(path);
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Optimal)
            : (Stream)file;
        stream.Write(NiftiHeaderCodec.Encode(header));
        stream.Write(new byte[offset - NiftiHeader.Size]);
        stream.Write(data);
    }
}
