using System.Text.Json;
using IlgpuSeg.Engine;
using static IlgpuSeg.Tests.Checkpoints.PthTestFiles;

namespace IlgpuSeg.Tests.Checkpoints;

public class PthReaderTests
{
    /// <summary>Checks names (in file order), stored dtypes, shapes and every value bit for bit against expected.safetensors.</summary>
    private static void AssertMatchesExpected(string expectedFile, IReadOnlyList<StateDictEntry> entries)
    {
        using var meta = JsonDocument.Parse(Expected.Value.Metadata[expectedFile]);
        var names = meta.RootElement.GetProperty("names").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var dtypes = meta.RootElement.GetProperty("dtypes").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(names, entries.Select(e => e.Name));
        Assert.Equal(dtypes, entries.Select(e => e.StoredDType));
        foreach (var entry in entries)
        {
            var expected = Expected.Value.Tensors[$"{expectedFile}/{entry.Name}"];
            Assert.Equal(expected.Shape, entry.Value.Shape);
            Assert.Equal(expected.DType, entry.Value.DType);
            Assert.Equal(expected.ToDoubleArray(), entry.Value.ToDoubleArray());
        }
    }

    [Theory]
    [MemberData(nameof(Good))]
    public void ReadsEveryTensorExactly(string file) => AssertMatchesExpected(file, PthReader.Read(Fixture(file)));

    public static TheoryData<string> Good => new(GoodFiles);

    [Fact]
    public void Protocol4PickleReadsLikeProtocol2() => AssertMatchesExpected("bare.pth", PthReader.Read(Fixture("protocol4.pth")));

    [Fact]
    public void CheckpointWrappersAndDataParallelPrefixGiveTheBareStateDict()
    {
        var bare = PthReader.Read(Fixture("bare.pth"));
        foreach (var file in new[] { "checkpoint.pth", "dataparallel.pth" })
        {
            var wrapped = PthReader.Read(Fixture(file));
            Assert.Equal(bare.Select(e => e.Name), wrapped.Select(e => e.Name));
            Assert.Equal(bare.Select(e => e.Value.ToDoubleArray()), wrapped.Select(e => e.Value.ToDoubleArray()));
        }
        Assert.DoesNotContain(PthReader.Read(Fixture("dataparallel.pth")), e => e.Name.StartsWith("module.", StringComparison.Ordinal));
    }

    [Fact]
    public void BuffersAndDtypesWidenAsDocumented()
    {
        var sd = PthReader.ReadStateDict(Fixture("bare.pth"));
        Assert.Equal(DType.Float64, sd["1.num_batches_tracked"].DType);
        Assert.Equal(3.0, sd["1.num_batches_tracked"].Item()); // two warm-up batches and one training step
        Assert.Equal(DType.Float32, sd["1.running_var"].DType);

        var dtypes = PthReader.ReadStateDict(Fixture("dtypes.pth"));
        Assert.Equal(DType.Float64, dtypes["i64"].DType);
        Assert.Equal([-3.0, 0, 1L << 40, 7], dtypes["i64"].ToDoubleArray());
        Assert.Equal(DType.Float32, dtypes["f16"].DType);
        Assert.Equal(DType.Float32, dtypes["bf16"].DType);
        Assert.Equal([1.0, 0, 1], dtypes["bool"].ToDoubleArray());
        Assert.Equal([0.0, 1, 255], dtypes["u8"].ToDoubleArray());
        Assert.Empty(dtypes["scalar_i64"].Shape);
        Assert.Equal([0, 3], dtypes["empty"].Shape);
    }

    [Fact]
    public void ViewsHonourOffsetAndStrideAndSharedStorage()
    {
        var sd = PthReader.ReadStateDict(Fixture("views.pth"));
        var whole = sd["shared_whole"].ToArray<float>();
        Assert.Equal(whole[3..9], sd["shared_slice"].ToArray<float>());
        // big[10:22].view(3, 4).t(): element [i, j] is big[10 + 4 j + i]
        var matrix = sd["shared_matrix"].ToArray<float>();
        Assert.Equal([4, 3], sd["shared_matrix"].Shape);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(whole[10 + 4 * j + i], matrix[3 * i + j]);
    }

    [Fact]
    public void ReadStateDictKeepsFileOrder() =>
        Assert.Equal(PthReader.Read(Fixture("checkpoint.pth")).Select(e => e.Name), PthReader.ReadStateDict(Fixture("checkpoint.pth")).Keys);

    [Theory]
    [InlineData("evil_os_system.pth", "os.system")]
    [InlineData("evil_builtins_eval.pth", "builtins.eval")]
    public void RefusesGlobalsOutsideTheAllowList(string file, string global)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => PthReader.Read(Fixture(file)));
        Assert.Contains($"'{global}'", e.Message);
        Assert.Contains(Fixture(file), e.Message);
    }

    [Fact]
    public void LegacyFormatIsRefusedWithAdvice()
    {
        var e = Assert.Throws<CheckpointFormatException>(() => PthReader.Read(Fixture("legacy.pth")));
        Assert.Contains(Fixture("legacy.pth"), e.Message);
        Assert.Contains("re-save it with torch >= 1.6", e.Message);
    }

    [Fact]
    public void StateDictFileDispatchesOnContentNotExtension()
    {
        using var dir = new TempDir();
        var pthNamedSafetensors = dir.File("really_a_pth.safetensors");
        File.Copy(Fixture("bare.pth"), pthNamedSafetensors);
        var pth = StateDictFile.Read(pthNamedSafetensors);
        Assert.Equal("pth", pth.Format);
        AssertMatchesExpected("bare.pth", pth.Entries);

        var safetensorsNamedPth = dir.File("really_safetensors.pth");
        File.Copy(Fixture("expected.safetensors"), safetensorsNamedPth);
        var st = StateDictFile.Read(safetensorsNamedPth);
        Assert.Equal("safetensors", st.Format);
        Assert.Contains(st.Entries, e => e.Name == "dtypes.pth/i64" && e.StoredDType == "float64"); // expected.safetensors stores it widened

        var text = dir.File("notes.pth");
        File.WriteAllText(text, "not a checkpoint at all");
        Assert.Contains(text, Assert.Throws<CheckpointFormatException>(() => StateDictFile.Read(text)).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(-22)] // cut inside the zip's end-of-central-directory record
    public void TruncatedFilesAreRefused(int length)
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Fixture("bare.pth"));
        var path = dir.File("truncated.pth");
        File.WriteAllBytes(path, bytes[..(length >= 0 ? length : bytes.Length + length)]);
        Assert.Contains(path, Assert.Throws<CheckpointFormatException>(() => PthReader.Read(path)).Message);
    }

    [Fact]
    public void MissingPickleMissingStorageAndShortStorageAreRefused()
    {
        var zip = File.ReadAllBytes(Fixture("bare.pth"));
        AssertRefused(PthTestFiles.RewriteZip(zip, (n, b) => n.EndsWith("/data.pkl") ? null : b), "no <archive>/data.pkl");
        AssertRefused(PthTestFiles.RewriteZip(zip, (n, b) => n.EndsWith("/data/0") ? null : b), "storage data/0 is missing");
        AssertRefused(PthTestFiles.RewriteZip(zip, (n, b) => n.EndsWith("/data/0") ? b[..^4] : b), "storage data/0 has");
        AssertRefused(PthTestFiles.RewriteZip(zip, (n, b) => n.EndsWith("/data.pkl") ? b[..(b.Length / 2)] : b), "truncated");

        static void AssertRefused(byte[] bytes, string expected)
        {
            var e = Assert.Throws<CheckpointFormatException>(() => PthReader.Read(new MemoryStream(bytes), "damaged.pth"));
            Assert.StartsWith("damaged.pth: ", e.Message);
            Assert.Contains(expected, e.Message);
        }
    }

    [Fact]
    public void TensorNeedingMoreThanItsStorageIsRefused()
    {
        // views.pth's 'shared_slice' is big[3:9]; claim 60 elements instead of 6 (BININT1 6 -> 60 in its size tuple).
        var zip = File.ReadAllBytes(Fixture("views.pth"));
        var damaged = PthTestFiles.RewriteZip(zip, (n, b) =>
        {
            if (!n.EndsWith("/data.pkl")) return b;
            var at = IndexOf(b, "shared_slice"u8);
            int size = IndexOf(b[at..], [(byte)'K', 6, 0x85]) + at; // BININT1 6, TUPLE1: the size (6,)
            var copy = (byte[])b.Clone();
            copy[size + 1] = 60;
            return copy;
        });
        var e = Assert.Throws<CheckpointFormatException>(() => PthReader.Read(new MemoryStream(damaged), "views.pth"));
        Assert.Contains("'shared_slice'", e.Message);
        Assert.Contains("needs storage element", e.Message);
    }

    [Fact]
    public void HugeStrideZeroViewOfATinyStorageIsRefusedBeforeAllocating()
    {
        // views.pth's 'expanded' is randn(3, 1).expand(3, 4): size (3, 4), stride (1, 0). Make the size (3, 2^28).
        var zip = File.ReadAllBytes(Fixture("views.pth"));
        var damaged = PthTestFiles.RewriteZip(zip, (n, b) =>
        {
            if (!n.EndsWith("/data.pkl")) return b;
            var at = IndexOf(b, "expanded"u8);
            int size = IndexOf(b[at..], [(byte)'K', 3, (byte)'K', 4, 0x86]) + at + 2; // BININT1 3, BININT1 4, TUPLE2
            return [.. b[..size], (byte)'J', 0, 0, 0, 0x10, .. b[(size + 2)..]]; // BININT 2^28 in place of BININT1 4
        });
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<CheckpointFormatException>(() => PthReader.Read(new MemoryStream(damaged), "views.pth"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
        Assert.Contains("'expanded' repeats its 3-element storage into 805306368 elements", e.Message);
    }

    private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        int at = haystack.IndexOf(needle);
        Assert.True(at >= 0, "pattern not found in data.pkl");
        return at;
    }
}
