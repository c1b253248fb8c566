using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MathNet.Numerics.Statistics;

namespace IlgpuSeg.Benchmarks;

/// <summary>
/// `Benchmarks step`: for each encoder configuration, the encoder step (b) and the full ALP few-shot iteration (a),
/// ours and PyTorch's (tools/bench_step.py), every one in its own child process so that peak RSS (getrusage
/// ru_maxrss at the end) is measured the same way on both sides; then each side's op-family breakdown of the step.
/// With several rounds the two sides alternate (ours, PyTorch, ours, …), so slow drifts of the machine fall on both,
/// and the ratio is the median of the rounds' ratios with their range: how far one run's ratio can be trusted.
/// </summary>
public static class StepBenchmark
{
    private const string Usage = "usage: Benchmarks step [--config small|resnet50|resnet101] [--threads N] [--iterations K] [--warmup SECONDS] [--rounds R]";
    private static readonly string[] Parts = ["encoder", "fewshot"];
    private static readonly string[] Families =
        ["convolution", "batch_norm", "elementwise", "pooling_resize", "prototype_head", "loss", "optimizer", "allocation_copy"];

    public static int Run(string[] args)
    {
        string? only = null;
        int threads = 2, iterations = 5, rounds = 1;
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
                ("--rounds", string v) => int.TryParse(v, out rounds) && rounds > 0,
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
        Console.WriteLine($"- date: {DateTime.Now:s}, {MachineInfo.Cpus()}, {threads} threads each side, float32, load average {LoadAverage()}");
        Console.WriteLine($"- method: each row in its own process; warm-up iterations until {warmup} s have passed (at least one; .NET re-compiles hot methods to optimised code in the background only after ~30 calls), median of {iterations} timed iterations; {rounds} round(s) per step, the two sides alternating; peak RSS = getrusage ru_maxrss at the end of the timed iterations; then {profiled} profiled iterations for the breakdown");
        if (!torch) Console.WriteLine("- PyTorch (Debian python3-torch) is not installed: ours only");

        foreach (var config in StepConfig.All.Where(c => only == null || c.Name == only))
        {
            Console.WriteLine($"\n## {config.Describe}\n");
            var results = new List<(string Part, List<JsonElement> Ours, List<JsonElement> Torch)>();
            foreach (var part in Parts)
            {
                string[] common = ["--config", config.Name, "--part", part, "--threads", $"{threads}", "--iterations", $"{iterations}", "--warmup", warmup.ToString(CultureInfo.InvariantCulture), "--profiled", $"{profiled}"];
                var (ours, theirs) = (new List<JsonElement>(), new List<JsonElement>());
                for (int round = 0; round < rounds; round++)
                {
                    var o = RunChild(Environment.ProcessPath!, [.. SelfArgs(), "step-worker", .. common]);
                    if (o == null) return 1;
                    ours.Add(o.Value);
                    if (torch && RunChild("/usr/bin/python3", [Path.Combine(ConvBenchmark.FindRepoRoot(), "tools", "bench_step.py"), .. common]) is JsonElement t) theirs.Add(t);
                }
                results.Add((part, ours, theirs));
            }
            PrintTimes(results);
            foreach (var (part, ours, theirs) in results) PrintBreakdown(part, ours[0], theirs.Count > 0 ? theirs[0] : null);
        }
        return 0;
    }

    private static string PartName(string part) => part == "encoder" ? "(b) encoder step" : "(a) full few-shot iteration";

    /// <summary>Per step: each side's median over rounds, the median of the rounds' ratios and (with several rounds) their range.</summary>
    private static void PrintTimes(List<(string Part, List<JsonElement> Ours, List<JsonElement> Torch)> results)
    {
        Console.WriteLine("| step | rounds | ours s/it | PyTorch s/it | ratio | ratio range | ours peak RSS GB | PyTorch peak RSS GB | RSS ratio |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|---:|---:|---:|");
        foreach (var (part, ours, torch) in results)
        {
            double s = Statistics.Median(ours.Select(Seconds)), rss = Statistics.Median(ours.Select(Gb));
            string ts = "—", ratio = "—", range = "—", trss = "—", rssRatio = "—";
            if (torch.Count == ours.Count)
            {
                var ratios = ours.Zip(torch, (o, t) => Seconds(o) / Seconds(t)).ToList();
                double trssValue = Statistics.Median(torch.Select(Gb));
                (ts, ratio, trss, rssRatio) = ($"{Statistics.Median(torch.Select(Seconds)):F3}", $"{Statistics.Median(ratios):F2}×", $"{trssValue:F2}", $"{rss / trssValue:F2}×");
                if (ratios.Count > 1) range = $"{ratios.Min():F2}–{ratios.Max():F2}×";
            }
            Console.WriteLine($"| {PartName(part)} | {ours.Count} | {s:F3} | {ts} | {ratio} | {range} | {rss:F2} | {trss} | {rssRatio} |");
        }
        var first = results[0];
        long ourParams = first.Ours[0].GetProperty("parameters").GetInt64();
        string check = first.Torch.Count > 0
            ? (first.Torch[0].GetProperty("parameters").GetInt64() is long p && p == ourParams ? $"PyTorch {p}, same architecture" : $"PyTorch {p}: ARCHITECTURES DIFFER")
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

    private static double Seconds(JsonElement result) => result.GetProperty("seconds_per_iteration").GetDouble();

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
        int iterations = int.Parse(named["--iterations"], CultureInfo.InvariantCulture), profiled = int.Parse(named["--profiled"], CultureInfo.InvariantCulture);
        if (iterations < 1 || profiled < 1)
        {
            Console.Error.WriteLine($"step-worker: --iterations {iterations} and --profiled {profiled} must both be at least 1 (the JSON reports a median and a per-iteration breakdown)");
            return 2;
        }
        return StepWorkload.Run(named["--config"], named["--part"], int.Parse(named["--threads"], CultureInfo.InvariantCulture),
            iterations, double.Parse(named["--warmup"], CultureInfo.InvariantCulture), profiled);
    }
}
