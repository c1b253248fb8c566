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

    /// <summary>
    /// L_diff (mean over 200 draws of s ~ U{1..t*}) and the noised and denoised distances to p0 (mean over 20 enhancements) after
    /// 600 steps on L_diff alone over 8 fixed prototypes of the encoder's D = 256 channels, DPL at its default size, with the
    /// optimiser the run's config gives the DPL modules (as the trainer does).
    /// </summary>
    private static (double Loss, double Noised, double Denoised) Trained(TrainConfig run)
    {
        var config = run.Dpl;
        var dpl = new DplModule(config, 256, new Generator(1));
        // Like an encoder's prototypes: a shared direction plus a smaller spread per prototype.
        var shared = Tensor.Normal([1, 256], new Generator(39)).Expand(8, 256);
        var p0 = new Variable(Ops.Add(shared, Ops.MulScalar(Tensor.Normal([8, 256], new Generator(40)), 0.3)));
        var parameters = dpl.NamedParameters().Select(p => ("dpl." + p.Name, p.Parameter)).ToList();
        var sgd = new Sgd(run.AdamForDpl ? [] : parameters, run.LearningRate, run.Momentum, run.WeightDecay) { LrScale = run.LrScale };
        var adam = new Adam(run.AdamForDpl ? parameters : [], run.DplLr);
        var noise = new Generator(41);
        for (int step = 0; step < 600; step++)
        {
            Tape.Clear();
            dpl.DiffusionLoss(p0, noise, config.InferenceStart).Loss.Backward();
            sgd.Step();
            adam.Step();
            dpl.ZeroGrad();
        }
        using var _ = Tape.NoGrad();
        var probe = new Generator(42);
        double loss = Enumerable.Range(0, 200).Average(_ => dpl.DiffusionLoss(p0, probe, config.InferenceStart).Loss.Item());
        var enhanced = Enumerable.Range(0, 20).Select(_ => dpl.Enhance(p0, training: true, probe)).ToList();
        return (loss, enhanced.Average(r => r.NoisedDistance), enhanced.Average(r => r.DenoisedDistance));
    }

    [Fact]
    public void AtTheSgdScaleTheDenoiserStartsToLearnWhereTheBaseRateLeavesItInert()
    {
        // The first optimiser form: the trainer's SGD (base rate 1e-3, momentum 0.9, decay 5e-4). With the DPL rate at the base rate
        // (checkpoints from before --dpl-lr) L_diff stays at the loss of predicting zero noise; at the i16 scale 0.5 it starts to fall
        // (measured 0.985 vs 1.005; slow under SGD, as on CHAOS, where it took ~600 iterations to reach 0.76 at t = t*).
        var sgd = new TrainConfig { DplOptimizer = "sgd", DplInjection = "additive", DplLr = TrainConfig.DefaultDplLr("sgd") };
        double learned = Trained(sgd).Loss, inert = Trained(sgd with { DplLr = 1e-3 }).Loss;
        Assert.True(learned < inert - 0.015 && inert > 0.995, $"L_diff after 600 steps: SGD scale {learned:F3}, base rate {inert:F3}");
    }

    [Fact]
    public void TheRevisedFormsDenoiserLearnsWhereTheFirstFormsDoesNot()
    {
        // The defaults (Adam for dpl.*, condition as ε_θ's input) against the forms before them (SGD at 0.5, α_t·c added). Measured:
        // revised L_diff 0.676, denoised distance 0.738; first 0.985 and 1.449 (noised 0.552 in both: 600 steps are too few on this
        // toy for the denoised prototypes to come closer to p0 than the noised ones; on CHAOS prototypes they do, see the i17 note).
        var revised = Trained(new TrainConfig());
        var first = Trained(new TrainConfig { DplOptimizer = "sgd", DplInjection = "additive", DplLr = TrainConfig.DefaultDplLr("sgd") });
        var message = $"revised: L_diff {revised.Loss:F3}, noised {revised.Noised:F3}, denoised {revised.Denoised:F3}; first: L_diff {first.Loss:F3}, noised {first.Noised:F3}, denoised {first.Denoised:F3}";
        Assert.True(revised.Loss < 0.75 && first.Loss > 0.95 && revised.Denoised < first.Denoised - 0.5, message);
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
        Assert.Equal(TrainConfig.DefaultDplLr("adam"), TrainConfig.FromJson(json).DplLr);
    }

    [Fact]
    public void TheOptimiserAndInjectionRoundTripAndI16ConfigsLoadAsSgdAndAdditive()
    {
        var first = new TrainConfig { Head = "dpl", DplOptimizer = "sgd", DplInjection = "additive", DplLr = 0.5 };
        Assert.Equal(first.ToJson(), TrainConfig.FromJson(first.ToJson()).ToJson());
        var revised = TrainConfig.FromJson(new TrainConfig { Head = "dpl" }.ToJson());
        Assert.True(revised.AdamForDpl);
        Assert.Equal(DplInjection.Input, revised.Dpl.Injection);
        // Last session's defaults (i16): --dpl-lr 0.5 for SGD, neither new field.
        var node = System.Text.Json.Nodes.JsonNode.Parse(new TrainConfig { Head = "dpl", DplLr = 0.5 }.ToJson())!.AsObject();
        Assert.True(node.Remove(nameof(TrainConfig.DplOptimizer)) && node.Remove(nameof(TrainConfig.DplInjection)));
        var i16 = TrainConfig.FromJson(node.ToJsonString());
        Assert.False(i16.AdamForDpl);
        Assert.Equal(DplInjection.Additive, i16.Dpl.Injection);
        Assert.Equal(0.5, i16.DplLr);
        Assert.Throws<ArgumentException>(() => new TrainConfig { DplOptimizer = "rmsprop" }.AdamForDpl);
    }
}
