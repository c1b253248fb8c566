using System.Text.Json.Nodes;
using IlgpuSeg.Autograd;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Pretrained;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using TempDir = IlgpuSeg.Tests.Checkpoints.PthTestFiles.TempDir;

namespace IlgpuSeg.Tests.Cli;

/// <summary>train --encoder resnet18-imagenet with --freeze-bn and --encoder-lr-scale, and old configs without them.</summary>
public class PretrainedEncoderTrainTests
{
    [Fact]
    public void PretrainedWeightsAndRunningStatisticsStayPutWithScaleZeroAndFrozenBatchNorm()
    {
        using var dir = new TempDir();
        var data = dir.File("data");
        PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        var config = new TrainConfig
        {
            Data = data, Iterations = 3, InputSize = 64, Encoder = ImageNetResNet18.EncoderName, Depth = [2, 2, 2, 3], Width = 1,
            FreezeBatchNorm = true, EncoderLrScale = 0, Seed = 5, SupervisedEpisodes = true, LearningRate = 1e-2,
        };
        var result = Trainer.Run(config, dir.File("ck"), 3, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null);
        Assert.True(result.Skipped < result.Iterations, "every episode was skipped: nothing trained");
        var checkpoint = Checkpoint.Load(result.CheckpointPath);
        Assert.Equal(ImageNetResNet18.EncoderName, checkpoint.Config.Encoder);
        var pretrained = ImageNetResNet18.Backbone(TextWriter.Null);
        foreach (var key in new[] { "conv1.weight", "layer4.2.conv2.weight", "layer3.0.bn1.running_mean", "layer3.0.bn1.running_var", "bn1.weight" })
            Assert.Equal(pretrained[key].ToArray<float>(), checkpoint.Model["encoder.backbone." + key].ToArray<float>());
        // The head (the reduce conv) did train at the full rate.
        Assert.True(checkpoint.Optimizer.ContainsKey("encoder.reduce.weight.momentum_buffer"));
        var reduceAfter = checkpoint.Model["encoder.reduce.weight"].ToArray<float>();
        var (init, _, noise) = Trainer.Generators(config.Seed);
        var reduceBefore = HeadRunner.Create(config, init, noise, Context.Default.CreateCpuAccelerator(1)).Encoder.StateDict().Single(kv => kv.Key == "reduce.weight").Value.ToArray<float>();
        Assert.NotEqual(reduceBefore, reduceAfter);
    }

    [Fact]
    public void FrozenBatchNormKeepsRunningStatisticsEvenWhenTheHeadSwitchesToTraining()
    {
        var encoder = new FewShotEncoder(new ResNetConfig([1, 1, 1, 1], [false, true, true], 1 / 16.0, ResNetBlock.Basic), FeatureHead.Reduce, new Generator(3), features: 8);
        var x = new Variable(Tensor.Normal([2, 3, 32, 32], new Generator(4)));
        float[] Mean() => encoder.StateDict().Single(kv => kv.Key == "backbone.layer2.0.bn1.running_mean").Value.ToArray<float>();
        var before = Mean();
        encoder.FreezeBatchNorm = true;
        encoder.Train();
        encoder.Forward(x).Backward(Tensor.Ones([2, 8, 4, 4]));
        Assert.Equal(before, Mean());
        Assert.NotNull(encoder.Backbone.Parameters().First().Grad);
        encoder.FreezeBatchNorm = false;
        encoder.Train();
        encoder.Forward(x);
        Assert.NotEqual(before, Mean());
    }

    [Fact]
    public void SgdScalesEachParametersStepByName()
    {
        var (a, b) = (Variable.Parameter(Tensor.Ones([3])), Variable.Parameter(Tensor.Ones([3])));
        var sgd = new Sgd([("encoder.backbone.w", a), ("head.w", b)], lr: 0.5, momentum: 0, weightDecay: 0) { LrScale = n => n.StartsWith("encoder.backbone.") ? 0.1 : 1 };
        F.Sum(F.Add(a, b)).Backward();
        sgd.Step();
        Assert.Equal([0.95f, 0.95f, 0.95f], a.Data.ToArray<float>());
        Assert.Equal([0.5f, 0.5f, 0.5f], b.Data.ToArray<float>());
    }

    [Fact]
    public void AConfigWrittenBeforeTheEncoderOptionsLoadsWithTheirDefaults()
    {
        var json = JsonNode.Parse(new TrainConfig { Data = "d", Depth = [1, 1, 1, 1], Width = 0.25 }.ToJson())!.AsObject();
        foreach (var field in new[] { "Encoder", "FreezeBatchNorm", "EncoderLrScale" }) Assert.True(json.Remove(field), field);
        var old = TrainConfig.FromJson(json.ToJsonString());
        Assert.Equal("resnet", old.Encoder);
        Assert.False(old.FreezeBatchNorm);
        Assert.Equal(1.0, old.EncoderLrScale);
        Assert.Equal(ResNetBlock.Bottleneck, old.ResNet.Block);
    }

    [Fact]
    public void EncoderOptionErrorsGiveOneLine()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("data"));
        foreach (var (args, says) in new (string[], string)[]
        {
            (["--encoder", "vgg16"], "--encoder: unknown encoder 'vgg16'"),
            (["--encoder", "resnet18-imagenet", "--depth", "2,2,2,2"], "leave out --depth and --width"),
            (["--encoder-lr-scale", "-0.5"], "--encoder-lr-scale: -0.5"),
        })
        {
            var (exit, _, error) = CommandRunner.Invoke(TrainCommand.Create(), ["train", "--data", dir.File("data"), "--dataset", "chaos", .. args]);
            Assert.Equal(1, exit);
            CommandRunner.AssertOneLineError(error, says);
        }
    }
}
