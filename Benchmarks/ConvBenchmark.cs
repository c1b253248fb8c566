using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Benchmarks;

/// <summary>
/// Times conv2d forward, backward-input and backward-weight for every distinct conv shape of an encoder of the step
/// benchmark (Benchmarks/&lt;net&gt;_os8_conv_shapes.json from tools/conv_shapes.py: ResNet-101 OS8 + ASPP at 2×3×256×256,
/// or ResNet-50 OS8 at 2×3×128×128), then runs tools/bench_torch.py conv on the same list when PyTorch is installed and
/// prints the ratios of the totals, so both sides come from one run on the same machine. With --cold, both sides write a
/// buffer larger than the last-level cache before every timed run: operands then come from memory, as in a training
/// step, where a layer's weights were last touched a whole pass ago.
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

    private static readonly Dictionary<string, string> Titles = new()
    {
        ["resnet101"] = "ResNet-101 OS8 + ASPP shapes at 2 × 256²",
        ["resnet50"] = "ResNet-50 OS8 shapes at 2 × 128²",
    };

    public static int Run(string[] args)
    {
        int threads = 2;
        string net = "resnet101";
        bool cold = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out threads) && threads > 0: i++; break;
                case "--net" when i + 1 < args.Length && Titles.ContainsKey(args[i + 1]): net = args[++i]; break;
                case "--cold": cold = true; break;
                default:
                    Console.Error.WriteLine($"conv: unexpected argument '{args[i]}' (usage: conv [--threads N] [--net {string.Join("|", Titles.Keys)}] [--cold])");
                    return 2;
            }
        }
        var shapes = LoadShapes(net);
        var acc = Context.Default.CreateCpuAccelerator(threads);
        Console.WriteLine($"# IlgpuSeg conv2d timings: {Titles[net]}{(cold ? ", cold caches" : "")}\n");
        Console.WriteLine($"- date: {DateTime.Now:s}, {MachineInfo.Cpus()}, CPU accelerator with {threads} threads, float32");
        Console.WriteLine("- method: one untimed warm-up, then the median of >= 5 runs (more for fast shapes, until 0.5 s or 30 runs)"
            + (cold ? "; a 256 MB buffer is written before every timed run (cold caches)" : "") + "\n");
        Console.WriteLine("| shape | forward ms | backward-input ms | backward-weight ms | GFLOP/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        double[] total = new double[3], perStep = new double[3];
        double totalFlops = 0;
        foreach (var s in shapes)
        {
            var gen = new Generator(0);
            var x = Tensor.Normal([s.N, s.CIn, s.H, s.W], gen, accelerator: acc);
            var w = Tensor.Normal([s.COut, s.CIn, s.Kernel, s.Kernel], gen, accelerator: acc);
            var b = s.Bias ? Tensor.Normal([s.COut], gen, accelerator: acc) : null;
            var dy = Tensor.Normal([s.N, s.COut, s.OutH, s.OutW], gen, accelerator: acc);
            var g = s.Geometry;
            double[] ms =
            [
                MedianMs(() => Ops.Conv2d(x, w, b, g), cold),
                MedianMs(() => Ops.Conv2dBackwardInput(dy, w, x.Shape, g), cold),
                MedianMs(() => Ops.Conv2dBackwardWeight(x, dy, w.Shape, g), cold),
            ];
            Console.WriteLine($"| {s.Describe} | {ms[0]:F2} | {ms[1]:F2} | {ms[2]:F2} | {s.ForwardFlops / (ms[0] * 1e-3) / 1e9:F1} |");
            for (int i = 0; i < 3; i++)
            {
                total[i] += ms[i];
                perStep[i] += s.Count * ms[i];
            }
            totalFlops += s.ForwardFlops;
        }
        Console.WriteLine($"| total | {total[0]:F2} | {total[1]:F2} | {total[2]:F2} | {totalFlops / (total[0] * 1e-3) / 1e9:F1} |");
        Console.WriteLine($"| per step | {perStep[0]:F2} | {perStep[1]:F2} | {perStep[2]:F2} | |");
        Console.WriteLine($"\nThe total row is the plain sum over the {shapes.Count} distinct shapes, as in tools/bench_torch.py; the per-step row "
            + "weights each shape by its count (the first conv's backward-input is not needed in training but is included).\n");

        var torch = RunTorch(net, cold);
        if (torch == null) return 0;
        Console.WriteLine(torch.Value.Output);
        var (t, ts) = (torch.Value.Total, torch.Value.PerStep);
        Console.WriteLine("\n## Ratio (ours / PyTorch, lower is faster)\n");
        Console.WriteLine("| | forward | backward (input + weight) | all three |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine($"| total ms, ours | {total[0]:F1} | {total[1] + total[2]:F1} | {total.Sum():F1} |");
        Console.WriteLine($"| total ms, PyTorch | {t[0]:F1} | {t[1] + t[2]:F1} | {t.Sum():F1} |");
        Console.WriteLine($"| ratio | {total[0] / t[0]:F2} | {(total[1] + total[2]) / (t[1] + t[2]):F2} | {total.Sum() / t.Sum():F2} |");
        Console.WriteLine($"| per step ms, ours | {perStep[0]:F1} | {perStep[1] + perStep[2]:F1} | {perStep.Sum():F1} |");
        Console.WriteLine($"| per step ms, PyTorch | {ts[0]:F1} | {ts[1] + ts[2]:F1} | {ts.Sum():F1} |");
        Console.WriteLine($"| per-step ratio | {perStep[0] / ts[0]:F2} | {(perStep[1] + perStep[2]) / (ts[1] + ts[2]):F2} | {perStep.Sum() / ts.Sum():F2} |");
        return 0;
    }

    private static List<ConvShape> LoadShapes(string net)
    {
        var path = Path.Combine(FindRepoRoot(), "Benchmarks", $"{net}_os8_conv_shapes.json");
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

    // 256 MB, over twice the largest last-level cache seen here (105 MB); allocated on first use.
    private static float[]? s_evict;

    /// <summary>Dirties one float per 64-byte line of a 256 MB buffer: the caches then hold it instead of the operands.</summary>
    private static void EvictCaches()
    {
        s_evict ??= new float[64 << 20];
        for (int i = 0; i < s_evict.Length; i += 16) s_evict[i] += 1f;
    }

    /// <summary>
    /// Median wall time: one warm-up, at least 5 runs, more while the timed total is under 0.5 s (at most 30); with cold, the
    /// caches are evicted before each timed run. Each run is in a tensor scope, as ops are in a training step, so its output
    /// goes back to the pool (unscoped, every output was a new allocation for the GC).
    /// </summary>
    private static double MedianMs(Func<Tensor> run, bool cold)
    {
        void Scoped()
        {
            using var scope = TensorScope.Open();
            run();
        }
        Scoped();
        var times = new List<double>();
        while (times.Count < 5 || (times.Sum() < 500 && times.Count < 30))
        {
            if (cold) EvictCaches();
            var sw = Stopwatch.StartNew();
            Scoped();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }

    /// <summary>Runs tools/bench_torch.py conv on the same list and parses its total and per-step rows; null when PyTorch is not installed.</summary>
    private static (string Output, double[] Total, double[] PerStep)? RunTorch(string net, bool cold)
    {
        if (!File.Exists("/usr/lib/python3/dist-packages/torch/__init__.py"))
        {
            Console.WriteLine("PyTorch (Debian python3-torch) is not installed: no reference timings, no ratio.");
            return null;
        }
        var root = FindRepoRoot();
        string[] arguments = [Path.Combine(root, "tools", "bench_torch.py"), "conv", "--net", net, .. cold ? new[] { "--cold" } : []];
        var psi = new ProcessStartInfo("/usr/bin/python3", arguments)
        {
            RedirectStandardOutput = true,
            WorkingDirectory = root,
        };
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var lines = output.Split('\n');
        var totalLine = lines.FirstOrDefault(l => l.StartsWith("| total |", StringComparison.Ordinal));
        var perStepLine = lines.FirstOrDefault(l => l.StartsWith("| per step |", StringComparison.Ordinal));
        if (process.ExitCode != 0 || totalLine == null || perStepLine == null)
        {
            Console.WriteLine($"tools/bench_torch.py failed (exit {process.ExitCode}):\n{output}");
            return null;
        }
        return (output, Cells(totalLine), Cells(perStepLine));
    }

    /// <summary>The three millisecond cells after the row label of a Markdown table row.</summary>
    private static double[] Cells(string row)
    {
        var cells = row.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return [double.Parse(cells[1], CultureInfo.InvariantCulture), double.Parse(cells[2], CultureInfo.InvariantCulture), double.Parse(cells[3], CultureInfo.InvariantCulture)];
    }
}
