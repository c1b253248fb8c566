using System.Diagnostics;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Benchmarks;

/// <summary>
/// GEMM and conv2d GFLOP/s on an ILGPU device, float32, through the engine's op layer:
/// `device [--device cuda|opencl|ilgpu-cpu]` (default cuda; ilgpu-cpu is far too slow for these shapes).
/// </summary>
public static class DeviceBenchmark
{
    public static int Run(string[] args)
    {
        string name = args.Length >= 2 && args[0] == "--device" ? args[1] : "cuda";
        Accelerator acc;
        try
        {
            acc = Context.Default.GetAccelerator(name);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        Console.WriteLine($"# ILGPU device benchmark: {acc}, float32");
        Console.WriteLine($"- date: {DateTime.Now:s}, {MachineInfo.Cpus()}\n");
        Console.WriteLine("| op | shape | ms | GFLOP/s |");
        Console.WriteLine("|---|---|---:|---:|");
        var gen = new Generator(1);
        foreach (int n in new[] { 256, 512, 1024, 2048 })
        {
            var a = Tensor.Uniform([n, n], gen, -1, 1, DType.Float32, acc);
            var b = Tensor.Uniform([n, n], gen, -1, 1, DType.Float32, acc);
            Report("matmul", $"{n}×{n}×{n}", 2.0 * n * n * n, () => Ops.MatMul(a, b), acc);
        }
        {
            var a = Tensor.Uniform([1024, 1024], gen, -1, 1, DType.Float32, acc);
            var b = Tensor.Uniform([1024, 1024], gen, -1, 1, DType.Float32, acc);
            Report("matmul Aᵀ·B (strided view)", "1024×1024×1024", 2.0 * 1024 * 1024 * 1024, () => Ops.MatMul(a.Transpose(0, 1), b), acc);
        }
        var convs = new (int N, int C, int H, int W, int O, int K, int S, int P, int D)[]
        {
            (2, 64, 64, 64, 64, 3, 1, 1, 1),
            (2, 256, 33, 33, 256, 3, 1, 2, 2),
            (2, 1024, 33, 33, 256, 1, 1, 0, 1),
            (2, 3, 256, 256, 64, 7, 2, 3, 1),
        };
        foreach (var c in convs)
        {
            var g = Conv2dGeometry.Square(c.S, c.P, c.D);
            var x = Tensor.Uniform([c.N, c.C, c.H, c.W], gen, -1, 1, DType.Float32, acc);
            var w = Tensor.Uniform([c.O, c.C, c.K, c.K], gen, -1, 1, DType.Float32, acc);
            var flops = 2.0 * c.N * c.O * g.OutH(c.H, c.K) * g.OutW(c.W, c.K) * c.C * c.K * c.K;
            Report("conv2d forward", $"{c.N}×{c.C}×{c.H}×{c.W} → {c.O}, {c.K}×{c.K} s{c.S} p{c.P} d{c.D}", flops, () => Ops.Conv2d(x, w, null, g), acc);
        }
        return 0;
    }

    /// <summary>Median of five timed runs after a warm-up (which also builds the program).</summary>
    private static void Report(string op, string shape, double flops, Func<Tensor> run, Accelerator acc)
    {
        run();
        acc.Synchronize();
        var times = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            var sw = Stopwatch.StartNew();
            run();
            acc.Synchronize();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double ms = times[2];
        Console.WriteLine($"| {op} | {shape} | {ms:F1} | {flops / ms / 1e6:F1} |");
    }
}
