namespace IlgpuSeg.Engine;

public enum RandomDistribution
{
    Uniform,
    Normal,
}

/// <summary>
/// A seeded, counter-based random stream (Philox-4x32-10). Element i of a draw is a pure function of
/// (seed, first counter + i), so the values do not depend on how many threads fill a tensor. Each draw
/// advances the counter by the number of elements, so consecutive draws never overlap.
/// </summary>
public sealed class Generator(ulong seed)
{
    public ulong Seed { get; } = seed;

    /// <summary>The next unused counter; save it with the seed to resume a stream exactly.</summary>
    public ulong Counter { get; set; }

    /// <summary>Reserves <paramref name="count"/> counters and returns (seed, first counter).</summary>
    public RandomStream Take(int count)
    {
        var stream = new RandomStream(Seed, Counter);
        Counter += (ulong)count;
        return stream;
    }

    /// <summary>A uniform double in [0, 1) drawn on the host, for samplers and augmentation parameters.</summary>
    public double NextDouble() => Philox.UniformDouble(Take(1).Block(0));

    /// <summary>A uniform integer in [0, maxExclusive).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive));
        return (int)Math.Min(maxExclusive - 1, Math.Floor(NextDouble() * maxExclusive));
    }
}

/// <summary>A reserved range of Philox counters starting at <see cref="FirstCounter"/>.</summary>
public readonly record struct RandomStream(ulong Seed, ulong FirstCounter)
{
    public (uint, uint, uint, uint) Block(long i) => Philox.Block(Seed, FirstCounter + (ulong)i);
}

/// <summary>Philox-4x32-10 (Salmon et al., SC'11) and the maps from its words to floats.</summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    public static (uint, uint, uint, uint) Block(ulong key, ulong counter)
    {
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
        for (int round = 0; round < 10; round++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
            k0 += W0;
            k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>24 random bits to a float in [0, 1).</summary>
    public static float UniformFloat(uint word) => (word >> 8) * (1.0f / (1 << 24));

    /// <summary>53 random bits from two words to a double in [0, 1).</summary>
    public static double UniformDouble((uint, uint, uint, uint) block) =>
        ((((ulong)block.Item1 << 32) | block.Item2) >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal by Box-Muller from one block (words 0-1 and 2-3 as two 53-bit uniforms).</summary>
    public static double Normal((uint, uint, uint, uint) block)
    {
        double u1 = UniformDouble(block);
        double u2 = ((((ulong)block.Item3 << 32) | block.Item4) >> 11) * (1.0 / (1UL << 53));
        return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
