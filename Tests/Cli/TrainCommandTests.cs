using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Cli;

/// <summary>Training on a tiny configuration: same seed → same bits, and an interrupted run resumed equals the uninterrupted one.</summary>
public class TrainCommandTests
{
    // 64² input gives an 8×8 feature grid. 2×2 training windows leave background cells also around JAPC's raters,
    // which dilate by a feature cell (4 px of a 32² phantom slice); 4×4 windows would skip most of those episodes.
    private static TrainConfig Tiny(string data, int iterations, string head = "alp") => new()
    {
        Data = data, Iterations = iterations, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0,
        Seed = 11, SupervisedEpisodes = true, LearningRate = 1e-2, Head = head, AlpWindows = [2, 1, 2],
    };

    /// <summary>Iterations that updated the weights (not skipped), from metrics.csv.</summary>
    private static int Trained(string checkpoints) =>
        File.ReadAllLines(Path.Combine(checkpoints, Trainer.MetricsName)).Skip(1).Count(l => l.Split(',')[1].Length > 0);

    private static string Phantoms(string root)
    {
        var dir = Path.Combine(root, "data");
        PhantomGenerator.WriteFolder(dir, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        return dir;
    }

    private static byte[] Train(TrainConfig config, string checkpoints, string? resume = null, int threads = 2, int? stopAfter = null)
    {
        var result = Trainer.Run(config, checkpoints, 4, resume, Context.Default.CreateCpuAccelerator(threads), TextWriter.Null, TextWriter.Null, stopAfter);
        return File.ReadAllBytes(result.CheckpointPath);
    }

    [Theory]
    [InlineData("alp")]
    [InlineData("dpl")]
    [InlineData("japc")]
    [InlineData("dpl+japc")]
    public void SameSeedGivesBitwiseIdenticalCheckpointsWhateverTheThreadCount(string head)
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-train").FullName;
        try
        {
            var data = Phantoms(root);
            var a = Train(Tiny(data, 10, head), Path.Combine(root, "a"), threads: 2);
            Assert.True(Trained(Path.Combine(root, "a")) >= 5, "most iterations must train, not skip");
            var b = Train(Tiny(data, 10, head), Path.Combine(root, "b"), threads: 1);
            Assert.Equal(a, b);
            var c = Train(Tiny(data, 10, head) with { Seed = 12 }, Path.Combine(root, "c"));
            Assert.NotEqual(a, c);
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData("alp")]
    [InlineData("dpl")]
    [InlineData("japc")]
    [InlineData("dpl+japc")]
    public void ResumingAnInterruptedRunReproducesTheUninterruptedCheckpoint(string head)
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-train").FullName;
        try
        {
            var data = Phantoms(root);
            var straight = Train(Tiny(data, 12, head), Path.Combine(root, "straight"));
            // Interrupted after 8 of 12 iterations (--stop-after): the run keeps the 12-iteration schedules (JAPC
            // switches stage at 6), so its checkpoint at 8 is the straight run's state at 8.
            Train(Tiny(data, 12, head), Path.Combine(root, "killed"), stopAfter: 8);
            var checkpoint = Path.Combine(root, "killed", Trainer.CheckpointName);
            var resumed = Train(Tiny(data, 12, head), Path.Combine(root, "killed"), resume: checkpoint);
            Assert.Equal(straight, resumed);
            var rows = File.ReadAllLines(Path.Combine(root, "killed", Trainer.MetricsName)).Skip(1).Select(l => l.Split(',')[0]).ToArray();
            Assert.Equal(Enumerable.Range(1, 12).Select(i => i.ToString()), rows);
        }
        finally { Directory.Delete(root, true); }
    }

    /// <summary>
    /// The same tiny run on the ILGPU kernels (ILGPU's CPU accelerator) follows the CPU's loss curve within float32
    /// tolerance. ILGPU's CPU accelerator costs ~10 s per iteration even on 16 × 16 inputs, so the run is three
    /// iterations: the first loss checks the whole forward on the device, the next two the backward and the updates.
    /// The learning rate is small because the ALP head makes discrete choices (cells above 0.95 coverage, argmax masks)
    /// that a rounding difference can flip: at 1e-3 iteration 3 differed by 0.2 % here, at 1e-4 all agree to ~1e-5.
    /// </summary>
    [Fact]
    public void TrainingOnIlgpuFollowsTheCpuLossCurve()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-train").FullName;
        try
        {
            var data = Phantoms(root);
            double[] Losses(Accelerator acc, string name)
            {
                Trainer.Run(Tiny(data, 3) with { InputSize = 16, LearningRate = 1e-4 }, Path.Combine(root, name), 3, null, acc, TextWriter.Null, TextWriter.Null);
                return File.ReadAllLines(Path.Combine(root, name, Trainer.MetricsName)).Skip(1)
                    .Select(l => l.Split(',')[1]).Where(v => v.Length > 0).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            }
            var cpu = Losses(Context.Default.CreateCpuAccelerator(2), "cpu");
            var ilgpu = Losses(Context.Default.IlgpuCpu, "ilgpu");
            Assert.Equal(3, cpu.Length);
            Assert.Equal(3, ilgpu.Length);
            for (int i = 0; i < cpu.Length; i++)
                Assert.True(Math.Abs(cpu[i] - ilgpu[i]) <= 1e-3 * Math.Max(1, Math.Abs(cpu[i])), $"iteration {i + 1}: cpu {cpu[i]}, ilgpu {ilgpu[i]}");
        }
        finally { Directory.Delete(root, true); }
    }

    private static (int Code, string Err) Cli(params string[] args)
    {
        var err = new StringWriter();
        var command = TrainCommand.Create();
        var root = new System.CommandLine.RootCommand { command };
        var parse = root.Parse(["train", .. args]);
        int code = parse.Invoke(new System.CommandLine.InvocationConfiguration { Output = TextWriter.Null, Error = err });
        return (code, err.ToString());
    }

    [Fact]
    public void WrongArgumentsGiveOneClearLineAndNonZeroExit()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-train").FullName;
        try
        {
            var (code, err) = Cli("--data", Path.Combine(root, "missing"));
            Assert.Equal(1, code);
            Assert.Contains("does not exist", err);

            var data = Phantoms(root);
            (code, err) = Cli("--data", data, "--head", "unet");
            Assert.Equal(1, code);
            Assert.Contains("unknown head 'unet'", err);

            (code, err) = Cli("--data", data, "--test-classes", "2,7");
            Assert.Equal(1, code);
            Assert.Contains("class 7 does not exist", err);

            (code, err) = Cli("--data", data, "--head", "japc", "--japc-form", "softmax");
            Assert.Equal(1, code);
            Assert.Contains("unknown JAPC form 'softmax'", err);

            (code, err) = Cli("--data", data, "--stop-after", "0");
            Assert.Equal(1, code);
            Assert.Contains("--stop-after 0: must be at least 1", err);

            (code, err) = Cli("--data", data, "--head", "dpl", "--dpl-beta", "-1");
            Assert.Equal(1, code);
            Assert.Contains("β -1", err);

            var corrupt = Path.Combine(root, "corrupt.safetensors");
            File.WriteAllBytes(corrupt, [1, 2, 3]);
            (code, err) = Cli("--data", data, "--resume", corrupt, "--checkpoints", Path.Combine(root, "ck"));
            Assert.Equal(1, code);
            Assert.Contains(corrupt, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        finally { Directory.Delete(root, true); }
    }
}

public class EvalCommandTests
{
    [Fact]
    public void EvalWritesPerScanCsvMarkdownAndOverlays()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-eval").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
            var config = new TrainConfig { Data = data, Iterations = 4, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, SupervisedEpisodes = true };
            var checkpoint = Trainer.Run(config, Path.Combine(root, "ck"), 4, null, Context.Default.Cpu, TextWriter.Null, TextWriter.Null).CheckpointPath;
            var outDir = Path.Combine(root, "eval");
            var rootCommand = new System.CommandLine.RootCommand { EvalCommand.Create() };
            var stdout = new StringWriter();
            int code = rootCommand.Parse(["eval", "--checkpoint", checkpoint, "--out", outDir]).Invoke(new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stdout });
            Assert.True(code == 0, stdout.ToString());
            // Fold 0 of 6 phantoms: queries 1-4, support 5; test classes RK and LK → 8 scored rows.
            var rows = File.ReadAllLines(Path.Combine(outDir, "dice.csv"));
            Assert.Equal(9, rows.Length);
            Assert.All(rows.Skip(1), r => Assert.InRange(double.Parse(r.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture), 0, 1));
            Assert.Contains("| mean |", File.ReadAllText(Path.Combine(outDir, "dice.md")));
            var pngs = Directory.GetFiles(outDir, "*.png");
            Assert.Equal(2 + 8, pngs.Length);
            Assert.All(pngs, p => Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(p)[..4]));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void EvalCanScoreADplEncoderUnderThePlainAlpHead()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-eval").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
            var config = new TrainConfig { Data = data, Head = "dpl", Iterations = 4, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, SupervisedEpisodes = true };
            var checkpoint = Trainer.Run(config, Path.Combine(root, "ck"), 4, null, Context.Default.Cpu, TextWriter.Null, TextWriter.Null).CheckpointPath;
            int dplTensors = Checkpoint.Load(checkpoint).Model.Keys.Count(k => k.StartsWith("dpl."));
            Assert.True(dplTensors > 0);
            var rootCommand = new System.CommandLine.RootCommand { EvalCommand.Create() };
            var stdout = new StringWriter();
            var outDir = Path.Combine(root, "eval");
            int code = rootCommand.Parse(["eval", "--checkpoint", checkpoint, "--out", outDir, "--head", "alp"]).Invoke(new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stdout });
            Assert.True(code == 0, stdout.ToString());
            Assert.Contains($"with the alp head ({dplTensors} head tensors ignored)", stdout.ToString());
            Assert.Equal(9, File.ReadAllLines(Path.Combine(outDir, "dice.csv")).Length);

            var err = new StringWriter();
            code = rootCommand.Parse(["eval", "--checkpoint", checkpoint, "--out", outDir, "--head", "japc"]).Invoke(new System.CommandLine.InvocationConfiguration { Output = TextWriter.Null, Error = err });
            Assert.Equal(1, code);
            Assert.Contains("--head: 'japc'", err.ToString());
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData("japc")]
    [InlineData("dpl+japc")]
    public void EvalWithSimulatedRatersScoresEachRater(string head)
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-eval").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
            var config = new TrainConfig { Data = data, Head = head, Iterations = 4, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, SupervisedEpisodes = true };
            var checkpoint = Trainer.Run(config, Path.Combine(root, "ck"), 4, null, Context.Default.Cpu, TextWriter.Null, TextWriter.Null).CheckpointPath;
            var outDir = Path.Combine(root, "eval");
            var rootCommand = new System.CommandLine.RootCommand { EvalCommand.Create() };
            var stdout = new StringWriter();
            int code = rootCommand.Parse(["eval", "--checkpoint", checkpoint, "--out", outDir, "--simulated-raters"]).Invoke(new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stdout });
            Assert.True(code == 0, stdout.ToString());
            // 4 query scans × 2 classes × 3 raters.
            var rows = File.ReadAllLines(Path.Combine(outDir, "dice.csv")).Skip(1).Select(r => r.Split(',')).ToArray();
            Assert.Equal(24, rows.Length);
            Assert.Equal(["0", "1", "2"], rows.Select(r => r[2]).Distinct().Order());
            var table = File.ReadAllText(Path.Combine(outDir, "dice.md"));
            Assert.Contains("| rater 1 | rater 2 | rater 3 |", table);
            Assert.Equal(3, table.Split('\n').Single(l => l.StartsWith("| RK |")).Split('|', StringSplitOptions.RemoveEmptyEntries).Length - 4);
        }
        finally { Directory.Delete(root, true); }
    }
}
