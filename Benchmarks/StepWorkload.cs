using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Benchmarks;

/// <summary>An encoder and input size of the step benchmark; tools/bench_step.py builds the same ones.</summary>
public sealed record StepConfig(string Name, ResNetConfig ResNet, int Size, string Describe)
{
    public static readonly StepConfig[] All =
    [
        new("small", new ResNetConfig([2, 2, 2, 2], [false, true, true], 0.25), 128, "ResNet [2,2,2,2] × 0.25, OS8, 2 × 128²"),
        new("resnet50", ResNetConfig.ResNet50Os8, 128, "ResNet-50, OS8, 2 × 128²"),
        new("resnet101", ResNetConfig.ResNet101Os8, 256, "ResNet-101, OS8, 2 × 256²"),
    ];

    public static StepConfig ByName(string name) => All.FirstOrDefault(c => c.Name == name)
        ?? throw new ArgumentException($"--config {name}: expected {string.Join(", ", All.Select(c => c.Name))}");
}

/// <summary>
/// One side of the step benchmark, run in its own process (`Benchmarks step-worker`) so its peak RSS is the step's
/// alone: the encoder step (batch 2, mean of the features as loss) or the full ALP few-shot iteration on a fixed
/// synthetic episode, each followed by SGD. Prints one JSON line: s/it, peak RSS and a profiled breakdown.
/// </summary>
public static class StepWorkload
{
    public const double LearningRate = 1e-3;

    public static int Run(string config, string part, int threads, int iterations, double warmupSeconds, int profiledIterations)
    {
        var step = StepConfig.ByName(config);
        var acc = Context.Default.CreateCpuAccelerator(threads);
        var encoder = new FewShotEncoder(step.ResNet, FeatureHead.Reduce, new Generator(0), acc: acc);
        var model = new AlpSegmenter(encoder, AlpConfig.Default);
        model.Train();
        var parameters = model.NamedParameters().ToList();
        var sgd = new Sgd(parameters, LearningRate);
        Action iteration = part switch
        {
            "encoder" => EncoderStep(encoder, sgd, step.Size, acc),
            "fewshot" => FewShotStep(model, sgd, step.Size, acc),
            _ => throw new ArgumentException($"part {part}: expected encoder or fewshot"),
        };

        // Warm-up: the first allocation of every pooled buffer, and time for the JIT to tier hot methods up.
        long warmupStart = Stopwatch.GetTimestamp();
        do iteration(); while (Stopwatch.GetElapsedTime(warmupStart).TotalSeconds < warmupSeconds);
        var times = new List<double>();
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            iteration();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        long peakRss = PeakRssBytes();

        OpProfiler.Reset();
        OpProfiler.Enabled = true;
        long profiledStart = Stopwatch.GetTimestamp();
        for (int i = 0; i < profiledIterations; i++) iteration();
        double profiledWall = Stopwatch.GetElapsedTime(profiledStart).TotalMilliseconds / profiledIterations;
        OpProfiler.Enabled = false;
        var families = OpProfiler.Times().ToDictionary(kv => FamilyKey(kv.Key), kv => kv.Value.TotalMilliseconds / profiledIterations);

        times.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["side"] = "ours",
            ["config"] = config,
            ["part"] = part,
            ["parameters"] = parameters.Sum(p => (long)p.Parameter.Data.Count),
            ["seconds_per_iteration"] = times[times.Count / 2],
            ["peak_rss_bytes"] = peakRss,
            ["profiled_wall_ms"] = profiledWall,
            ["families_ms"] = families,
        }));
        return 0;
    }

    /// <summary>The JSON name of a family, shared with tools/bench_step.py.</summary>
    public static string FamilyKey(OpFamily family) => family switch
    {
        OpFamily.Convolution => "convolution",
        OpFamily.BatchNorm => "batch_norm",
        OpFamily.Elementwise => "elementwise",
        OpFamily.PoolingResize => "pooling_resize",
        OpFamily.PrototypeHead => "prototype_head",
        OpFamily.Loss => "loss",
        OpFamily.Optimizer => "optimizer",
        OpFamily.AllocationCopy => "allocation_copy",
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    private static Action EncoderStep(FewShotEncoder encoder, Sgd sgd, int size, Accelerator acc)
    {
        var input = Tensor.Normal([2, 3, size, size], new Generator(1), accelerator: acc);
        return () =>
        {
            using var scope = TensorScope.Open();
            var loss = F.Mean(encoder.Forward(new Variable(input)));
            loss.Backward();
            sgd.Step();
            sgd.ZeroGrad();
        };
    }

    private static Action FewShotStep(AlpSegmenter model, Sgd sgd, int size, Accelerator acc)
    {
        var episode = SyntheticEpisode.Create(size, acc);
        return () =>
        {
            using var scope = TensorScope.Open();
            var loss = model.Loss(episode.SupportImage, episode.SupportMask, episode.SupportLabel, episode.QueryImage, episode.QueryLabel);
            loss.Total.Backward();
            sgd.Step();
            sgd.ZeroGrad();
        };
    }

    /// <summary>getrusage(RUSAGE_SELF) maximum resident set size, as Python's resource module reports it.</summary>
    private static unsafe long PeakRssBytes()
    {
        // struct rusage on 64-bit Linux: two struct timeval (4 longs), then ru_maxrss in KiB.
        long* usage = stackalloc long[18];
        if (Getrusage(0, usage) != 0) throw new InvalidOperationException("getrusage failed");
        return usage[4] * 1024;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    private static extern unsafe int Getrusage(int who, long* usage);
}

/// <summary>
/// A fixed episode both sides build from the same formulas: a bright disc (the "organ") on a smooth grey background,
/// repeated to 3 channels; the support's disc is its mask, the query's (shifted) disc its label. The contrast lets an
/// untrained encoder tell the disc apart, so the alignment step finds background prototypes as in training
/// (tools/bench_step.py: synthetic_episode).
/// </summary>
public sealed record SyntheticEpisode(Tensor SupportImage, Tensor SupportMask, IndexTensor SupportLabel, Tensor QueryImage, IndexTensor QueryLabel)
{
    public static SyntheticEpisode Create(int size, Accelerator acc)
    {
        float[] Image(double fx, double fy, int[] disc)
        {
            var grey = new float[size * size];
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) grey[y * size + x] = (float)(0.25 * (Math.Sin(x * fx) + Math.Cos(y * fy)) + 2 * disc[y * size + x]);
            return [.. grey, .. grey, .. grey];
        }
        int[] Disc(double cx, double cy)
        {
            var mask = new int[size * size];
            double r = size / 4.0;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) mask[y * size + x] = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r ? 1 : 0;
            return mask;
        }
        var supportLabel = Disc(size / 2.0, size / 2.0);
        var queryLabel = Disc(size / 2.0 + size / 16.0, size / 2.0);
        return new(
            Tensor.FromArray(Image(0.21, 0.13, supportLabel), [1, 3, size, size], acc),
            Tensor.FromArray(Array.ConvertAll(supportLabel, v => (float)v), [1, 1, size, size], acc),
            new IndexTensor(supportLabel, [1, size, size]),
            Tensor.FromArray(Image(0.19, 0.17, queryLabel), [1, 3, size, size], acc),
            new IndexTensor(queryLabel, [1, size, size]));
    }
}
