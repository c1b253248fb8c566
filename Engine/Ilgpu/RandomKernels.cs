using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Philox-4x32-10 random fills: the kernel calls the CPU's own Philox code (Engine/Generator.cs), element i with
// counter FirstCounter + i, so values equal the CPU backend's whatever the launch shape. The maps compute in
// double and round to T, as the CPU does.
internal sealed partial class IlgpuKernels
{
    public void Random(Tensor dst, RandomStream stream, RandomDistribution distribution, double a, double b)
    {
        CheckDevice(dst);
        if (!dst.IsContiguous) throw new ArgumentException("random: destination must be contiguous");
        if (IsFloat(dst)) Random<float, Real32>(dst, stream, distribution, a, b);
        else Random<double, Real64>(dst, stream, distribution, a, b);
    }

    private void Random<T, R>(Tensor dst, RandomStream stream, RandomDistribution distribution, double a, double b)
        where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        if (dst.Count == 0) return;
        var kernel = device.Kernel(RandomKernel<T, R>, d => d.LoadAutoGroupedStreamKernel<Index1D, ArrayView<T>, RandomArgs>(RandomKernel<T, R>));
        var args = new RandomArgs(stream.Seed, stream.FirstCounter, distribution == RandomDistribution.Normal ? 1 : 0, dst.DType == DType.Float32 ? 1 : 0, a, b);
        kernel(dst.Count, View<T>(dst).SubView(dst.Offset, dst.Count), args);
    }

    internal readonly record struct RandomArgs(ulong Seed, ulong First, int Normal, int Single, double A, double B);

    private static void RandomKernel<T, R>(Index1D i, ArrayView<T> dst, RandomArgs r)
        where T : unmanaged, IFloatingPointIeee754<T> where R : struct, IReal<T>
    {
        var block = Philox.Block(r.Seed, r.First + (ulong)i.X);
        double v = r.Normal != 0
            ? r.A + r.B * Philox.Normal(block)
            : r.A + (r.B - r.A) * (r.Single != 0 ? Philox.UniformFloat(block.Item1) : Philox.UniformDouble(block));
        dst[i] = R.Of(v);
    }
}
