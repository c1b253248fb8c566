using System.IO.Compression;

namespace IlgpuSeg.Data;

/// <summary>
/// Reads a single-file NIfTI-1 image, plain or gzip-compressed (detected by the gzip magic bytes, so a
/// misnamed file still reads). Every size is checked against the file before anything is allocated for it.
/// </summary>
internal static class NiftiReader
{
    // Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes never holds more than this.
    private const long MaxDeflateRatio = 1032;

    public static NiftiImage Read(string path)
    {
        using var file = File.OpenRead(path);
        var fileLength = file.Length;
        var gzip = StartsWithGzipMagic(file);
        using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        try
        {
            return ReadFrom(stream, path, fileLength, gzip);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip data ({e.Message})", e);
        }
    }

    private static NiftiImage ReadFrom(Stream stream, string path, long fileLength, bool gzip)
    {
        var headerBytes = new byte[NiftiHeader.Size];
        var got = stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false);
        var bigEndian = NiftiHeaderCodec.DetectBigEndian(headerBytes.AsSpan(0, got), path);
        var header = NiftiHeaderCodec.Decode(headerBytes, bigEndian);
        var dataBytes = NiftiHeaderValidation.Validate(header, path);
        NiftiGeometry.BestAffine(header, path); // a bad qform fails here, at read time, not at first use

        var offset = NiftiHeaderValidation.DataOffset(header);
        var needed = offset + dataBytes;
        var mostPossible = gzip ? fileLength * MaxDeflateRatio : fileLength;
        if (needed > mostPossible)
            throw ShortFile(path, gzip, gzip ? null : fileLength, offset, dataBytes);

        // Skip extensions (and any padding) between the header and vox_offset.
        var gap = new byte[offset - NiftiHeader.Size];
        if (stream.ReadAtLeast(gap, gap.Length, throwOnEndOfStream: false) < gap.Length)
            throw ShortFile(path, gzip, null, offset, dataBytes);

        var raw = new byte[dataBytes];
        if (stream.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false) < raw.Length)
            throw ShortFile(path, gzip, null, offset, dataBytes);
        return new NiftiImage(header, raw, bigEndian, path);
    }

    private static DataFormatException ShortFile(string path, bool gzip, long? fileLength, long offset, long dataBytes)
    {
        var needs = $"the header needs {offset + dataBytes} bytes (vox_offset {offset} + {dataBytes} data bytes)";
        var problem = gzip
            ? $"gzip data ends too early: {needs}; the file is truncated or its header does not match its data"
            : $"file is shorter than its header says: {needs}{(fileLength is { } n ? $" but the file has {n}" : "")}; truncated file or header/data size mismatch";
        return new DataFormatException(path, problem);
    }

    private static bool StartsWithGzipMagic(FileStream file)
    {
        var magic = new byte[2];
        var n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }
}
