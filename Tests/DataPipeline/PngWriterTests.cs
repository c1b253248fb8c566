using System.Buffers.Binary;
using System.IO.Compression;
using IlgpuSeg.Data.Png;

namespace IlgpuSeg.Tests.DataPipeline;

public class PngWriterTests
{
    [Fact]
    public void WritesAValidRgbPngWhosePixelsDecodeBack()
    {
        var path = Path.GetTempFileName();
        try
        {
            var rgb = Enumerable.Range(0, 5 * 3 * 3).Select(i => (byte)(i * 7)).ToArray();
            PngWriter.WriteRgb(path, 5, 3, rgb);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
            // IDAT follows IHDR (8 + 25 bytes); inflate it and drop the per-row filter bytes.
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(33));
            Assert.Equal("IDAT", System.Text.Encoding.ASCII.GetString(bytes, 37, 4));
            using var z = new ZLibStream(new MemoryStream(bytes, 41, length), CompressionMode.Decompress);
            var raw = new MemoryStream();
            z.CopyTo(raw);
            var rows = raw.ToArray();
            Assert.Equal(3 * (1 + 15), rows.Length);
            for (int y = 0; y < 3; y++)
            {
                Assert.Equal(0, rows[y * 16]);
                Assert.Equal(rgb[(y * 15)..((y + 1) * 15)], rows[(y * 16 + 1)..((y + 1) * 16)]);
            }
        }
        finally { File.Delete(path); }
    }
}
