using IlgpuSeg.Autograd;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>--dpl-lr</c>: DPL's modules get their own learning rate (METHODS §6, the denoiser must learn); old checkpoints keep 1.</summary>
public class DplLearningRateTests
{
    [Theory]
    [InlineData("dpl")]
    [InlineData("dpl+japc")]
    public void TheScaleReachesExactlyTheDplParameters(string head)
    {
        var config = new TrainConfig { Head = head, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, DplLr = 0.3, EncoderLrScale = 0.5 };
        var names = HeadRunner.Create(config, new Generator(1), new Generator(2), Context.Default.CreateCpuAccelerator(1)).Model.NamedParameters().Select(p => p.Name).ToList();
        var dpl = names.Where(n => n.StartsWith("dpl.", StringComparison.Ordinal)).ToList();
        Assert.Contains("dpl.noise_predictor.0.weight", dpl);
        Assert.Contains("dpl.condition_encoder.2.weight", dpl);
        Assert.All(dpl, n => Assert.Equal(300, config.LrScale(n), 9));   // 0.3 / the base 1e-3
        Assert.All(names.Where(n => n.StartsWith("encoder.backbone.", StringComparison.Ordinal)), n => Assert.Equal(0.5, config.LrScale(n)));
        Assert.All(names.Where(n => !n.StartsWith("dpl.", StringComparison.Ordinal) && !n.StartsWith("encoder.backbone.", StringComparison.Ordinal)),
            n => Assert.Equal(1, config.LrScale(n)));
    }

    [Fact]
    public void AtTheDefaultScaleTheDenoiserLearnsWhereTheBaseRateLeavesItInert()
    {
        // The trainer's SGD (base rate 1e-3, momentum 0.9, decay 5e-4) on L_diff alone over 8 fixed prototypes of the encoder's
        // D = 256 channels, DPL at its default size. With the DPL rate at the base rate (checkpoints from before the option) L_diff
        // stays at the loss of predicting zero noise; at the default scale it starts to fall within 600 steps (measured 0.985 vs
        // 1.005; slow under SGD, as on CHAOS, where it took ~600 iterations to reach 0.76 at t = t*; see the i16 note).
        double Trained(TrainConfig run)
        {
            var config = DplConfig.Default;
            var dpl = new DplModule(config, 256, new Generator(1));
            // Like an encoder's prototypes: a shared direction plus a smaller spread per prototype.
            var shared = Tensor.Normal([1, 256], new Generator(39)).Expand(8, 256);
            var p0 = new Variable(Ops.Add(shared, Ops.MulScalar(Tensor.Normal([8, 256], new Generator(40)), 0.3)));
            var sgd = new Sgd(dpl.NamedParameters().Select(p => ("dpl." + p.Name, p.Parameter)).ToList(), run.LearningRate, run.Momentum, run.WeightDecay) { LrScale = run.LrScale };
            var noise = new Generator(41);
            for (int step = 0; step < 600; step++)
            {
                Tape.Clear();
                dpl.DiffusionLoss(p0, noise, config.InferenceStart).Loss.Backward();
                sgd.Step();
                sgd.ZeroGrad();
            }
            using var _ = Tape.NoGrad();
            var probe = new Generator(42);
            return Enumerable.Range(0, 200).Average(_ => dpl.DiffusionLoss(p0, probe, config.InferenceStart).Loss.Item());
        }
        double learned = Trained(new TrainConfig()), inert = Trained(new TrainConfig { DplLr = 1e-3 });
        Assert.True(learned < inert - 0.015 && inert > 0.995, $"L_diff after 600 steps: default scale {learned:F3}, base rate {inert:F3}");
    }

    [Fact]
    public void ConfigsFromBeforeTheOptionTrainDplAtTheBaseRate()
    {
        var json = new TrainConfig { Head = "dpl" }.ToJson();
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        Assert.True(node.Remove(nameof(TrainConfig.DplLr)));
        node[nameof(TrainConfig.LearningRate)] = 0.004;
        var old = TrainConfig.FromJson(node.ToJsonString());
        Assert.Equal(0.004, old.DplLr);
        Assert.Equal(1, old.LrScale("dpl.noise_predictor.0.weight"));
        Assert.Equal(TrainConfig.DefaultDplLr, TrainConfig.FromJson(json).DplLr);
    }
}
