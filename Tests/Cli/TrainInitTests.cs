using System.Security.Cryptography;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>train --init</c>: weights from a checkpoint, fresh optimiser and schedules, the init file named and hashed in the config.</summary>
public class TrainInitTests
{
    private static TrainConfig Tiny(string data, string head, int iterations) => new()
    {
        Data = data, Iterations = iterations, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0,
        Seed = 11, SupervisedEpisodes = true, LearningRate = 1e-2, Head = head, DecayEvery = 2, Gamma = 0.5,
    };

    private static Checkpoint Train(TrainConfig config, string dir) =>
        Checkpoint.Load(Trainer.Run(config, dir, 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null).CheckpointPath);

    private static string Phantoms(string root)
    {
        var dir = Path.Combine(root, "data");
        PhantomGenerator.WriteFolder(dir, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        return dir;
    }

    private static double[] Values(Tensor t) => t.To(DType.Float64).ToArray<double>();

    [Fact]
    public void InitLoadsTheWeightsKeepsNewHeadTensorsFreshAndStartsAFreshOptimiserAndSchedule()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-init").FullName;
        try
        {
            var data = Phantoms(root);
            var stage1 = Train(Tiny(data, "alp", 6), Path.Combine(root, "stage1"));
            var stage1Path = Path.Combine(root, "stage1", Trainer.CheckpointName);

            // Learning rates 0 (DPL's Adam has its own) and no weight decay: the weights stay what --init loaded (batch-norm
            // statistics still move).
            var frozen = Tiny(data, "dpl", 2) with { LearningRate = 0, WeightDecay = 0, DplLr = 0 };
            var armed = Train(frozen with { Init = stage1Path }, Path.Combine(root, "arm"));
            var scratch = Train(frozen, Path.Combine(root, "scratch"));
            Assert.Equal(stage1Path, armed.Config.Init);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(stage1Path))), armed.Config.InitSha256);
            var weights = stage1.Model.Keys.Where(k => k.EndsWith(".weight", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(weights);
            foreach (var key in weights)
            {
                Assert.Equal(Values(stage1.Model[key]), Values(armed.Model[key]));
                Assert.NotEqual(Values(stage1.Model[key]), Values(scratch.Model[key]));
            }
            // DPL's own tensors are not in the ALP checkpoint: they keep the values a run from scratch starts with.
            var dplKeys = armed.Model.Keys.Where(k => k.StartsWith("dpl.", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(dplKeys);
            foreach (var key in dplKeys) Assert.Equal(Values(scratch.Model[key]), Values(armed.Model[key]));

            // Fresh schedule: the arm's first iteration runs at the base learning rate, not stage 1's decayed one.
            var arm = Tiny(data, "alp", 4) with { Init = stage1Path };
            Train(arm, Path.Combine(root, "arm-alp"));
            var lrColumn = File.ReadAllLines(Path.Combine(root, "arm-alp", Trainer.MetricsName))[1].Split(',')[6];
            Assert.Equal(arm.LearningRate, double.Parse(lrColumn, System.Globalization.CultureInfo.InvariantCulture));

            // Fresh optimiser: the same init without its optimiser state gives the same bits.
            var stripped = Path.Combine(root, "stripped.safetensors");
            (stage1 with { Optimizer = [] }).Save(stripped);
            var a = Train(arm, Path.Combine(root, "arm-a"));
            var b = Train(arm with { Init = stripped }, Path.Combine(root, "arm-b"));
            foreach (var key in a.Model.Keys) Assert.Equal(Values(a.Model[key]), Values(b.Model[key]));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void InitFromAMissingOrMismatchedCheckpointIsAClearError()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-init").FullName;
        try
        {
            var data = Phantoms(root);
            var missing = Path.Combine(root, "none.safetensors");
            var (code, _, err) = CommandRunner.Invoke(TrainCommand.Create(), "train", "--data", data, "--init", missing, "--checkpoints", Path.Combine(root, "ck"));
            Assert.Equal(1, code);
            CommandRunner.AssertOneLineError(err, missing, "does not exist");

            Train(Tiny(data, "alp", 2), Path.Combine(root, "stage1"));
            var init = Path.Combine(root, "stage1", Trainer.CheckpointName);
            var narrower = Tiny(data, "alp", 2) with { Width = 1 / 8.0, Init = init };
            var e = Assert.Throws<IlgpuSeg.Models.StateDictMismatchException>(() => Train(narrower, Path.Combine(root, "ck")));
            Assert.Contains(init, e.Message);
            Assert.Contains("shape mismatches", e.Message);
        }
        finally { Directory.Delete(root, true); }
    }
}
