using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace IlgpuSeg.Benchmarks;

/// <summary>
/// `Benchmarks step`: for each encoder configuration, the encoder step (b) and the full ALP few-shot iteration (a),
/// ours and PyTorch's (tools/bench_step.py), every one in its own child process so that peak RSS (getrusage
/// ru_maxrss at the end) is measured the same way on both sides; then each side's op-family breakdown of the step.
/// </summary>
public static class StepBenchmark
{
    private const string Usage = "usage: Benchmarks step [--config small|resnet50|resnet101] [--threads N] [--iterations K] [--warmup SECONDS]";
    private static readonly string[] Parts = ["encoder", "fewshot"];
    private static readonly string[] Families =
        ["convolution", "batch_norm", "elementwise", "pooling_resize", "prototype_head", "loss", "optimizer", "allocation_copy"];

    public static int Run(string[] args)
    {
        string? only = null;
        int threads = 2, iterations = 5;
        double warmup = 5;
        for (int i = 0; i < args.Length; i += 2)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            bool ok = (args[i], value) switch
            {
                ("--config", string v) when StepConfig.All.Any(c => c.Name == v) => (only = v) != null,
                ("--threads", string v) => int.TryParse(v, out threads) && threads > 0,
                ("--iterations", string v) => int.TryParse(v, out iterations) && iterations > 0,
                ("--warmup", string v) => double.TryParse(v, CultureInfo.InvariantCulture, out warmup) && warmup >= 0,
                _ => false,
            };
            if (!ok)
            {
                Console.Error.WriteLine($"step: bad argument '{args[i]} {value}'. {Usage}");
                return 1;
            }
        }
        int profiled = Math.Min(iterations, 3);
        bool torch = File.Exists("/usr/lib/python3/dist-packages/torch/__init__.py");
        Console.WriteLine("# Training step: ours vs PyTorch\n");
        Console.WriteLine($"- date: {DateTime.Now:s}, {Environment.ProcessorCount} logical CPUs, {threads} threads each side, float32, load average {LoadAverage()}");
        Console.WriteLine($"- method: each row in its own process; warm-up iterations until {warmup} s have passed (at least one; .NET re-compiles hot methods to optimised code in the background only after ~30 calls), median of {iterations} timed iterations; peak RSS = getrusage ru_maxrss at the end of the timed iterations; then {profiled} profiled iterations for the breakdown");
        if (!torch) Console.WriteLine("- PyTorch (Debian python3-torch) is not installed: ours only");

        foreach (var config in StepConfig.All.Where(c => only == null || c.Name == only))
        {
            Console.WriteLine($"\n## {config.Describe}\n");
            var results = new List<(string Part, JsonElement Ours, JsonElement? Torch)>();
            foreach (var part in Parts)
            {
                string[] common = ["--config", config.Name, "--part", part, "--threads", $"{threads}", "--iterations", $"{iterations}", "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--profiled", $"{profiled}"];
                var ours = RunChild(Environment.ProcessPath!, [.. SelfArgs(), "step-worker", .. common]);
                var theirs = torch ? RunChild("/usr/bin/python3", [Path.Combine(ConvBenchmark.FindRepoRoot(), "tools", "bench_step.py"), .. common]) : null;
                if (ours == null) return 1;
                results.Add((part, ours.Value, theirs));
            }
            PrintTimes(results);
            foreach (var (part, ours, theirs) in results) PrintBreakdown(part, ours, theirs);
        }
        return 0;
    }

    private static string PartName(string part) => part == "encoder" ? "(b) encoder step" : "(a) full few-shot iteration";

    private static void PrintTimes(List<(string Part, JsonElement Ours, JsonElement? Torch)> results)
    {
        Console.WriteLine("| step | ours s/it | PyTorch s/it | ratio | ours peak RSS GB | PyTorch peak RSS GB | RSS ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (part, ours, torch) in results)
        {
            double s = ours.GetProperty("seconds_per_iteration").GetDouble(), rss = Gb(ours);
            string ts = "—", ratio = "—", trss = "—", rssRatio = "—";
            if (torch is JsonElement t)
            {
                double tsValue = t.GetProperty("seconds_per_iteration").GetDouble(), trssValue = Gb(t);
                (ts, ratio, trss, rssRatio) = ($"{tsValue:F3}", $"{s / tsValue:F2}×", $"{trssValue:F2}", $"{rss / trssValue:F2}×");
            }
            Console.WriteLine($"| {PartName(part)} | {s:F3} | {ts} | {ratio} | {rss:F2} | {trss} | {rssRatio} |");
        }
        var first = results[0];
        long ourParams = first.Ours.GetProperty("parameters").GetInt64();
        string check = first.Torch is JsonElement tp
            ? (tp.GetProperty("parameters").GetInt64() is long p && p == ourParams ? $"PyTorch {p}, same architecture" : $"PyTorch {tp.GetProperty("parameters").GetInt64()}: ARCHITECTURES DIFFER")
            : "no PyTorch";
        Console.WriteLine($"\nParameters: ours {ourParams}, {check}.");
    }

    private static void PrintBreakdown(string part, JsonElement ours, JsonElement? torch)
    {
        Console.WriteLine($"\n{PartName(part)}, ms per iteration by op family (profiler on; PyTorch: self CPU time of torch.profiler events grouped the same way):\n");
        Console.WriteLine("| family | ours ms | PyTorch ms |");
        Console.WriteLine("|---|---:|---:|");
        double oursSum = 0, torchSum = 0;
        foreach (var family in Families)
        {
            double o = ours.GetProperty("families_ms").GetProperty(family).GetDouble();
            oursSum += o;
            string t = "—";
            if (torch is JsonElement te)
            {
                double v = te.GetProperty("families_ms").GetProperty(family).GetDouble();
                torchSum += v;
                t = $"{v:F1}";
            }
            Console.WriteLine($"| {family.Replace('_', ' ')} | {o:F1} | {t} |");
        }
        double oursWall = ours.GetProperty("profiled_wall_ms").GetDouble();
        string torchOther = "—", torchWall = "—";
        if (torch is JsonElement tw)
        {
            double wall = tw.GetProperty("profiled_wall_ms").GetDouble();
            (torchOther, torchWall) = ($"{wall - torchSum:F1}", $"{wall:F1}");
        }
        Console.WriteLine($"| other (outside these ops: autograd, views, Python/.NET glue, GC) | {oursWall - oursSum:F1} | {torchOther} |");
        Console.WriteLine($"| wall time per profiled iteration | {oursWall:F1} | {torchWall} |");
        if (torch is JsonElement tu)
            Console.WriteLine("\nPyTorch events in no family (autograd engine, dispatch wrappers; check the grouping here): "
                + string.Join(", ", tu.GetProperty("unmapped_ms").EnumerateObject().Select(p => $"{p.Name} {p.Value.GetDouble():F1} ms")));
    }

    private static double Gb(JsonElement result) => result.GetProperty("peak_rss_bytes").GetInt64() / 1e9;

    /// <summary>The arguments that start this benchmark again (the dll when run through the dotnet host).</summary>
    private static string[] SelfArgs() =>
        Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? [typeof(StepBenchmark).Assembly.Location] : [];

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Runs one side and parses the JSON line it prints last; null (with its output shown) when it fails.</summary>
    private static JsonElement? RunChild(string program, string[] args)
    {
        var psi = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, WorkingDirectory = ConvBenchmark.FindRepoRoot() };
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (process.ExitCode != 0 || line == null || !line.StartsWith('{'))
        {
            Console.WriteLine($"{Path.GetFileName(program)} {string.Join(' ', args)} failed (exit {process.ExitCode}):\n{output}");
            return null;
        }
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>`Benchmarks step-worker --config C --part P --threads N --iterations K --warmup SECONDS --profiled M`: one side, in this process.</summary>
    public static int Worker(string[] args)
    {
        var named = Enumerable.Range(0, args.Length / 2).ToDictionary(i => args[2 * i], i => args[2 * i + 1]);
        return StepWorkload.Run(named["--config"], named["--part"], int.Parse(named["--threads"], CultureInfo.InvariantCulture),
            int.Parse(named["--iterations"], CultureInfo.InvariantCulture), double.Parse(named["--warmup"], CultureInfo.InvariantCulture),
            int.Parse(named["--profiled"], CultureInfo.InvariantCulture));
    }
}
