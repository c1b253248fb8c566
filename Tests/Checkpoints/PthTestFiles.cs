using System.IO.Compression;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Checkpoints;

/// <summary>The committed .pth fixtures (made by tools/make_pth_fixtures.py) and helpers to damage them.</summary>
public static class PthTestFiles
{
    public static string FixtureDir => Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "pth");

    public static string Fixture(string file) => Path.Combine(FixtureDir, file);

    /// <summary>Files the reader must accept; each has its expected tensors in expected.safetensors.</summary>
    public static readonly string[] GoodFiles = ["bare.pth", "checkpoint.pth", "dataparallel.pth", "views.pth", "dtypes.pth"];

    public static readonly Lazy<SafeTensors.Contents> Expected = new(() => SafeTensors.Read(Fixture("expected.safetensors")));

    /// <summary>Copies a zip, letting <paramref name="transform"/> replace each entry's bytes (null drops the entry).</summary>
    public static byte[] RewriteZip(byte[] zip, Func<string, byte[], byte[]?> transform)
    {
        using var source = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var output = new MemoryStream();
        using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                byte[] bytes;
                using (var s = entry.Open())
                using (var copy = new MemoryStream())
                {
                    s.CopyTo(copy);
                    bytes = copy.ToArray();
                }
                var replaced = transform(entry.FullName, bytes);
                if (replaced == null) continue;
                using var w = target.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
                w.Write(replaced);
            }
        }
        return output.ToArray();
    }

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("ilgpuseg-pth-").FullName;

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
