using System.Buffers.Binary;
using IlgpuSeg.Data;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.NiftiFiles;

/// <summary>
/// Mutated real headers must never crash the reader with anything but <see cref="DataFormatException"/>,
/// nor make it allocate memory the file could not back.
/// </summary>
public class NiftiFuzzTests
{
    private const int Seed = 20240521;
    private const int Iterations = 1500;
    private const long MaxAllocationPerRead = 64L << 20;

    [Fact]
    public void MutatedHeadersOnlyEverRaiseDataFormatException()
    {
        // Every committed file's header, in both byte orders.
        var seeds = Directory.EnumerateFiles(TestDataDir, "*.nii.gz").Order()
            .Select(SmallImageWithRealHeader)
            .SelectMany(s => new[] { s.Bytes, ToBigEndian(s.Bytes, s.ElementSize) })
            .ToArray();
        var random = new Random(Seed);
        var failures = new List<string>();
        var (rejected, accepted) = (0, 0);
        using var dir = new TempDir();

        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var bytes = Mutate((byte[])seeds[random.Next(seeds.Length)].Clone(), random);
            var gzip = random.Next(2) == 0;
            if (gzip)
            {
                bytes = Gzip(bytes); // empty when the mutation truncated everything: .NET writes no gzip header then
                if (random.Next(4) == 0) bytes = bytes[..random.Next(bytes.Length + 1)]; // cut the compressed stream
                else if (random.Next(4) == 0 && bytes.Length > 0) bytes[random.Next(bytes.Length)] ^= (byte)(1 + random.Next(255));
            }
            var path = dir.File($"fuzz_{iteration}.nii{(gzip ? ".gz" : "")}");
            File.WriteAllBytes(path, bytes);

            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var image = Nifti.Read(path);
                _ = image.GetData();
                _ = image.Orientation;
                _ = image.Spacing;
                accepted++;
            }
            catch (DataFormatException e) when (e.FilePath == path)
            {
                rejected++;
            }
            catch (Exception e)
            {
                failures.Add($"seed {Seed}, iteration {iteration}: {e.GetType().Name}: {e.Message}");
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated > MaxAllocationPerRead)
                failures.Add($"seed {Seed}, iteration {iteration}: allocated {allocated} bytes for a {bytes.Length}-byte file");
            File.Delete(path);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Both outcomes must occur, or the mutations are too weak (or too strong) to test anything.
        Assert.True(rejected > Iterations / 10 && accepted > Iterations / 10, $"rejected {rejected}, accepted {accepted}");
    }

    /// <summary>A real file's header and extensions, with dims cut down to a few voxels so the loop stays fast.</summary>
    private static (byte[] Bytes, int ElementSize) SmallImageWithRealHeader(string path)
    {
        var nii = ReadDecompressed(path);
        var offset = (int)BinaryPrimitives.ReadSingleLittleEndian(nii.AsSpan(108));
        var elementSize = BinaryPrimitives.ReadInt16LittleEndian(nii.AsSpan(72)) / 8;
        short[] dims = [3, 5, 4, 3];
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(40 + 2 * i), dims[i]);
        return (nii[..(offset + 5 * 4 * 3 * elementSize)], elementSize);
    }

    private static byte[] Mutate(byte[] nii, Random random)
    {
        var mutations = 1 + random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            switch (random.Next(6))
            {
                case 0: // flip a random byte in the header
                    nii[random.Next(NiftiHeader.Size)] ^= (byte)(1 + random.Next(255));
                    break;
                case 1: // a random dim
                    BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(40 + 2 * random.Next(8)), RandomShort(random));
                    break;
                case 2: // a random datatype, often a real code
                    short[] codes = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304];
                    var code = random.Next(2) == 0 ? codes[random.Next(codes.Length)] : RandomShort(random);
                    BinaryPrimitives.WriteInt16LittleEndian(nii.AsSpan(70), code);
                    break;
                case 3: // a random vox_offset, often near the valid range
                    float[] offsets = [0, 351, 352, 353, 400, float.NaN, float.PositiveInfinity, -1, 1e9f, 3e38f];
                    var offset = random.Next(2) == 0 ? offsets[random.Next(offsets.Length)] : random.Next(-1000, 100_000);
                    BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(108), offset);
                    break;
                case 4: // a random float among pixdim, scaling, quaternion and srow fields
                    int[] floatFields = [76, 80, 84, 88, 112, 116, 256, 260, 264, 268, 280, 284, 288, 292, 296, 312];
                    float[] specials = [0, -1, 1, float.NaN, float.NegativeInfinity, 1e30f, 0.9f];
                    BinaryPrimitives.WriteSingleLittleEndian(nii.AsSpan(floatFields[random.Next(floatFields.Length)]),
                        specials[random.Next(specials.Length)]);
                    break;
                default: // truncate anywhere
                    nii = nii[..random.Next(nii.Length + 1)];
                    break;
            }
            if (nii.Length < NiftiHeader.Size) break;
        }
        return nii;
    }

    private static short RandomShort(Random random) => random.Next(3) switch
    {
        0 => (short)random.Next(-2, 10),
        1 => (short)random.Next(short.MinValue, short.MaxValue + 1),
        _ => (short)random.Next(0, 200),
    };
}
