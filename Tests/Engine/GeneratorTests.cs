using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Engine;

public class GeneratorTests
{
    [Fact]
    public void SameSeedSameStream()
    {
        var a = Tensor.Normal([1000], new Generator(42)).ToArray<float>();
        var b = Tensor.Normal([1000], new Generator(42)).ToArray<float>();
        var c = Tensor.Normal([1000], new Generator(43)).ToArray<float>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void StreamDoesNotDependOnThreadCount()
    {
        var one = Context.Default.CreateCpuAccelerator(1);
        var two = Context.Default.CreateCpuAccelerator(2);
        var a = Tensor.Uniform([200_000], new Generator(5), accelerator: one).ToArray<float>();
        var b = Tensor.Uniform([200_000], new Generator(5), accelerator: two).ToArray<float>();
        Assert.Equal(a, b);
    }

    [Fact]
    public void ConsecutiveDrawsContinueTheStream()
    {
        var g = new Generator(9);
        var first = Tensor.Uniform([10], g, dtype: DType.Float64).ToArray<double>();
        var second = Tensor.Uniform([10], g, dtype: DType.Float64).ToArray<double>();
        var whole = Tensor.Uniform([20], new Generator(9), dtype: DType.Float64).ToArray<double>();
        Assert.Equal(whole, first.Concat(second));
        Assert.Equal(20UL, g.Counter);
    }

    [Fact]
    public void DistributionsHaveTheRightMoments()
    {
        var n = Tensor.Normal([200_000], new Generator(1), 2.0, 3.0, DType.Float64).ToArray<double>();
        double mean = n.Average(), std = Math.Sqrt(n.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, 1.96, 2.04);
        Assert.InRange(std, 2.97, 3.03);

        var u = Tensor.Uniform([200_000], new Generator(2), -1, 3).ToArray<float>();
        Assert.All(u, v => Assert.InRange(v, -1f, 3f));
        Assert.InRange(u.Average(v => (double)v), 0.98, 1.02);
    }

    [Fact]
    public void PhiloxMatchesThePublishedKnownAnswer()
    {
        // Random123 known-answer test for philox4x32_10 with counter 0 and key 0.
        var (a, b, c, d) = Philox.Block(0, 0);
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), (a, b, c, d));
    }
}
