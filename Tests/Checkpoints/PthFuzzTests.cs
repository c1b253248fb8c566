using IlgpuSeg.Engine;
using static IlgpuSeg.Tests.Checkpoints.PthTestFiles;

namespace IlgpuSeg.Tests.Checkpoints;

/// <summary>
/// Mutated checkpoints must never crash the reader with anything but <see cref="CheckpointFormatException"/>,
/// nor make it allocate memory the file could not back.
/// </summary>
public class PthFuzzTests
{
    private const int Seed = 20240602;
    private const int Iterations = 2000;
    private const long MaxAllocationPerRead = 16L << 20; // the fixtures are a few KB; only bogus sizes could need more

    [Fact]
    public void MutatedCheckpointsOnlyEverRaiseCheckpointFormatException()
    {
        var seeds = GoodFiles.Append("protocol4.pth").Select(f => File.ReadAllBytes(Fixture(f))).ToArray();
        var random = new Random(Seed);
        var failures = new List<string>();
        var (rejected, accepted) = (0, 0);

        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var bytes = Mutate(seeds[random.Next(seeds.Length)], random);
            var name = $"fuzz_{iteration}.pth";
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var entries = PthReader.Read(new MemoryStream(bytes), name);
                foreach (var entry in entries) _ = entry.Value.ToDoubleArray();
                accepted++;
            }
            catch (CheckpointFormatException e) when (e.Message.StartsWith(name + ": ", StringComparison.Ordinal))
            {
                rejected++;
            }
            catch (Exception e)
            {
                failures.Add($"seed {Seed}, iteration {iteration}: {e.GetType().Name}: {e.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > MaxAllocationPerRead)
                failures.Add($"seed {Seed}, iteration {iteration}: allocated {allocated} bytes");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // Both outcomes must be exercised, or the mutations are too mild or too destructive to test anything.
        Assert.True(rejected > Iterations / 4, $"only {rejected} rejected");
        Assert.True(accepted > Iterations / 20, $"only {accepted} accepted");
    }

    /// <summary>Mostly damages data.pkl inside an otherwise valid zip (what the unpickler must survive); sometimes
    /// a storage entry, and sometimes the zip itself.</summary>
    private static byte[] Mutate(byte[] zip, Random random)
    {
        switch (random.Next(8))
        {
            case < 4: // flip 1-4 bytes of the pickle
                return RewriteZip(zip, (n, b) =>
                {
                    if (!n.EndsWith("/data.pkl", StringComparison.Ordinal)) return b;
                    var copy = (byte[])b.Clone();
                    for (int k = random.Next(1, 5); k > 0; k--) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                    return copy;
                });
            case 4: // overwrite a run of the pickle with random bytes, or cut it
                return RewriteZip(zip, (n, b) =>
                {
                    if (!n.EndsWith("/data.pkl", StringComparison.Ordinal)) return b;
                    var copy = (byte[])b.Clone();
                    if (random.Next(2) == 0) return copy[..random.Next(copy.Length)];
                    int start = random.Next(copy.Length);
                    random.NextBytes(copy.AsSpan(start, Math.Min(copy.Length - start, random.Next(1, 16))));
                    return copy;
                });
            case 5: // resize one storage entry
                return RewriteZip(zip, (n, b) =>
                    n.Contains("/data/", StringComparison.Ordinal) && random.Next(4) == 0
                        ? random.Next(2) == 0 ? b[..random.Next(b.Length + 1)] : [.. b, .. new byte[random.Next(1, 9)]]
                        : b);
            case 6: // cut the file
                return zip[..random.Next(zip.Length)];
            default: // random bytes anywhere in the file
                var bytes = (byte[])zip.Clone();
                for (int k = random.Next(1, 9); k > 0; k--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
        }
    }
}
