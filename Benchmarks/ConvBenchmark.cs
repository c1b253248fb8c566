using System.Diagnostics;
using System.Text.Json;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Benchmarks;

/// <summary>
/// Times conv2d forward, backward-input and backward-weight for every distinct conv shape of ResNet-101
/// (output stride 8) + ASPP at 2×3×256×256 (Benchmarks/resnet101_os8_conv_shapes.json, the list
/// tools/bench_torch.py times too), then runs tools/bench_torch.py conv when PyTorch is installed and
/// prints the ratio of the totals, so both sides come from one run on the same machine.
/// </summary>
public static class ConvBenchmark
{
    private sealed record ConvShape(int N, int CIn, int H, int W, int COut, int Kernel, int Stride, int Padding, int Dilation, bool Bias, int Count)
    {
        public Conv2dGeometry Geometry => Conv2dGeometry.Square(Stride, Padding, Dilation);
        public int OutH => Geometry.OutH(H, Kernel);
        public int OutW => Geometry.OutW(W, Kernel);
        public double ForwardFlops => 2.0 * N * COut * OutH * OutW * CIn * Kernel * Kernel;
        public string Describe => $"{N}×{CIn}×{H}×{W} → {COut}, {Kernel}×{Kernel} s{Stride} p{Padding} d{Dilation}";
    }

    public static int Run(string[] args)
    {
        int threads = args.Length >= 2 && args[0] == "--threads" ? int.Parse(args[1]) : 2;
        var shapes = LoadShapes();
        var acc = Context.Default.CreateCpuAccelerator(threads);
        Console.WriteLine($"# IlgpuSeg conv2d timings: ResNet-101 OS8 + ASPP shapes\n");
        Console.WriteLine($"- date: {DateTime.Now:s}, {Environment.ProcessorCount} logical CPUs, CPU accelerator with {threads} threads, float32");
        Console.WriteLine("- method: one untimed warm-up, then the median of >= 5 runs (more for fast shapes, until 0.5 s or 30 runs)\n");
        Console.WriteLine("| shape | forward ms | backward-input ms | backward-weight ms | GFLOP/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double[] total = new double[3];
        double totalFlops = 0;
        foreach (var s in shapes)
        {
            var gen = new Generator(0);
            var x = Tensor.Normal([s.N, s.CIn, s.H, s.W], gen, accelerator: acc);
            var w = Tensor.Normal([s.COut, s.CIn, s.Kernel, s.Kernel], gen, accelerator: acc);
            var b = s.Bias ? Tensor.Normal([s.COut], gen, accelerator: acc) : null;
            var dy = Tensor.Normal([s.N, s.COut, s.OutH, s.OutW], gen, accelerator: acc);
            var g = s.Geometry;
            double fwd = MedianMs(() => Ops.Conv2d(x, w, b, g));
            double bwdIn = MedianMs(() => Ops.Conv2dBackwardInput(dy, w, x.Shape, g));
            double bwdW = MedianMs(() => Ops.Conv2dBackwardWeight(x, dy, w.Shape, g));
            Console.WriteLine($"| {s.Describe} | {fwd:F2} | {bwdIn:F2} | {bwdW:F2} | {s.ForwardFlops / (fwd * 1e-3) / 1e9:F1} |");
            total[0] += fwd;
            total[1] += bwdIn;
            total[2] += bwdW;
            totalFlops += s.ForwardFlops;
        }
        Console.WriteLine($"| total | {total[0]:F2} | {total[1]:F2} | {total[2]:F2} | {totalFlops / (total[0] * 1e-3) / 1e9:F1} |");
        Console.WriteLine($"\nThe total row is the plain sum over the {shapes.Count} distinct shapes, as in tools/bench_torch.py.\n");

        var torch = RunTorch();
        if (torch == null) return 0;
        Console.WriteLine(torch.Value.Output);
        var t = torch.Value.Total;
        Console.WriteLine("\n## Ratio (ours / PyTorch, lower is faster)\n");
        Console.WriteLine("| | forward | backward (input + weight) |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| total ms, ours | {total[0]:F1} | {total[1] + total[2]:F1} |");
        Console.WriteLine($"| total ms, PyTorch | {t[0]:F1} | {t[1] + t[2]:F1} |");
        Console.WriteLine($"| ratio | {total[0] / t[0]:F2} | {(total[1] + total[2]) / (t[1] + t[2]):F2} |");
        return 0;
    }

    private static List<ConvShape> LoadShapes()
    {
        var path = Path.Combine(FindRepoRoot(), "Benchmarks", "resnet101_os8_conv_shapes.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(e => new ConvShape(
            e.GetProperty("n").GetInt32(), e.GetProperty("c_in").GetInt32(), e.GetProperty("h").GetInt32(), e.GetProperty("w").GetInt32(),
            e.GetProperty("c_out").GetInt32(), e.GetProperty("kernel").GetInt32(), e.GetProperty("stride").GetInt32(),
            e.GetProperty("padding").GetInt32(), e.GetProperty("dilation").GetInt32(), e.GetProperty("bias").GetBoolean(),
            e.GetProperty("count").GetInt32())).ToList();
    }

    internal static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "IlgpuSeg.sln"))) return dir.FullName;
        throw new InvalidOperationException("IlgpuSeg.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Median wall time: one warm-up, at least 5 runs, more while under 0.5 s (at most 30).</summary>
    private static double MedianMs(Func<Tensor> run)
    {
        run();
        var times = new List<double>();
        while (times.Count < 5 || (times.Sum() < 500 && times.Count < 30))
        {
            var sw = Stopwatch.StartNew();
            run();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }

    /// <summary>Runs tools/bench_torch.py conv and parses its total row; null when PyTorch is not installed.</summary>
    private static (string Output, double[] Total)? RunTorch()
    {
        if (!File.Exists("/usr/lib/python3/dist-packages/torch/__init__.py"))
        {
            Console.WriteLine("PyTorch (Debian python3-torch) is not installed: no reference timings, no ratio.");
            return null;
        }
        var root = FindRepoRoot();
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(root, "tools", "bench_torch.py"), "conv"])
        {
            RedirectStandardOutput = true,
            WorkingDirectory = root,
        };
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var totalLine = output.Split('\n').FirstOrDefault(l => l.StartsWith("| total |", StringComparison.Ordinal));
        if (process.ExitCode != 0 || totalLine == null)
        {
            Console.WriteLine($"tools/bench_torch.py failed (exit {process.ExitCode}):\n{output}");
            return null;
        }
        var cells = totalLine.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return (output, [double.Parse(cells[1]), double.Parse(cells[2]), double.Parse(cells[3])]);
    }
}
