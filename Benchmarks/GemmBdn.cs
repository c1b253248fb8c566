using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Benchmarks;

/// <summary>BenchmarkDotNet view of square Sgemm (row-major, no transposes): `-- bdn --filter *GemmBdn*`.</summary>
[MemoryDiagnoser]
public unsafe class GemmBdn
{
    float* _a, _b, _c;

    [Params(256, 512, 1024, 2048)]
    public int Size;

    [Params(1, 2)]
    public int Threads;

    [GlobalSetup]
    public void Setup()
    {
        nuint bytes = (nuint)Size * (nuint)Size * sizeof(float);
        _a = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        _b = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        _c = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        var rng = new Random(1);
        for (long i = 0; i < (long)Size * Size; i++)
        {
            _a[i] = rng.NextSingle() - 0.5f;
            _b[i] = rng.NextSingle() - 0.5f;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
    }

    [Benchmark]
    public void Sgemm() => Gemm.Sgemm(false, false, Size, Size, Size, 1f, _a, Size, _b, Size, 0f, _c, Size, Threads);
}
