using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>eval --dpl-start T --dpl-variants K</c>: DPL's inference chain as training drew it (issue 16's no-training check).</summary>
public class EvalDplNoiseTests
{
    [Fact]
    public void StartAndVariantsChangeTheChainAndTheCheckpointsOwnValuesReproduceTheDefault()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-dplnoise").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
            TrainConfig Tiny(string head) => new()
            {
                Data = data, Iterations = 3, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, Seed = 5, SupervisedEpisodes = true, LearningRate = 1e-2, Head = head,
            };
            var acc = Context.Default.CreateCpuAccelerator(2);
            var dpl = Trainer.Run(Tiny("dpl"), Path.Combine(root, "dpl"), 100, null, acc, TextWriter.Null, TextWriter.Null).CheckpointPath;
            var alp = Trainer.Run(Tiny("alp"), Path.Combine(root, "alp"), 100, null, acc, TextWriter.Null, TextWriter.Null).CheckpointPath;

            string Dice(string name, params string[] options)
            {
                var dir = Path.Combine(root, name);
                var (exit, _, error) = CommandRunner.Invoke(EvalCommand.Create(), ["eval", "--checkpoint", dpl, "--out", dir, "--threads", "2", .. options]);
                Assert.True(exit == 0, error);
                return File.ReadAllText(Path.Combine(dir, "dice.csv"));
            }
            Assert.Equal(Dice("default"), Dice("explicit", "--dpl-start", "10", "--dpl-variants", "4"));

            // The enhanced prototypes, and so the probabilities, follow the start step and K.
            float[] Probabilities(int start, int variants)
            {
                var checkpoint = Checkpoint.Load(dpl);
                var runner = Trainer.LoadRunner(checkpoint with { Config = checkpoint.Config with { DplStart = start, DplVariants = variants } }, acc);
                runner.Model.Eval();
                var image = Tensor.Normal([1, 3, 64, 64], new Generator(3), accelerator: acc);
                var mask = Tensor.FromArray(Enumerable.Range(0, 64 * 64).Select(i => i % 64 is > 16 and < 40 && i / 64 is > 16 and < 40 ? 1.0 : 0.0).ToArray(), [1, 1, 64, 64], acc).To(DType.Float32);
                using var _ = IlgpuSeg.Autograd.Tape.NoGrad();
                return runner.Probabilities(image, [mask], Tensor.Normal([1, 3, 64, 64], new Generator(4), accelerator: acc))[0].ToArray<float>();
            }
            var standard = Probabilities(10, 4);
            Assert.Equal(standard, Probabilities(10, 4));
            Assert.NotEqual(standard, Probabilities(1, 4));
            Assert.NotEqual(standard, Probabilities(10, 1));

            foreach (var (checkpoint, args, message) in new[]
            {
                (dpl, new[] { "--dpl-start", "0" }, "DPL start step 0 must be in 1..20"),
                (dpl, new[] { "--dpl-start", "21" }, "DPL start step 21 must be in 1..20"),
                (dpl, new[] { "--dpl-variants", "0" }, "DPL variants K = 0 must be at least 1"),
                (alp, new[] { "--dpl-start", "5" }, "the checkpoint's head alp has no DPL"),
            })
            {
                var (exit, _, error) = CommandRunner.Invoke(EvalCommand.Create(), ["eval", "--checkpoint", checkpoint, "--out", Path.Combine(root, "bad"), .. args]);
                Assert.Equal(1, exit);
                CommandRunner.AssertOneLineError(error, "--dpl-start/--dpl-variants", message);
            }
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void ConfigsFromBeforeTheFieldsKeepTenAndFour()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(new TrainConfig { Head = "dpl" }.ToJson())!.AsObject();
        Assert.True(node.Remove(nameof(TrainConfig.DplStart)) && node.Remove(nameof(TrainConfig.DplVariants)));
        var dpl = TrainConfig.FromJson(node.ToJsonString()).Dpl;
        Assert.Equal((10, 4), (dpl.InferenceStart, dpl.Variants));
    }
}
