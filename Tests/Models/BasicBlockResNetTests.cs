using System.Text.Json;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Models;

public class BasicBlockResNetTests
{
    private static readonly ResNetConfig ResNet18 = new([2, 2, 2, 2], [false, false, false], 1.0, ResNetBlock.Basic);

    /// <summary>Our BasicBlock ResNet [2, 2, 2, 2] has torchvision's resnet18 keys (without fc), in order, with its shapes.</summary>
    [Fact]
    public void ResNet18HasTorchvisionKeysAndShapes()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "torchvision_keys.json")));
        var expected = doc.RootElement.GetProperty("resnet18").EnumerateArray()
            .Select(e => (Key: e[0].GetString()!, Shape: e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray())).ToList();
        var ours = new ResNet(ResNet18, new Generator(1)).StateDict().Select(kv => (kv.Key, kv.Value.Shape)).ToList();
        Assert.Equal(expected.Select(e => e.Key), ours.Select(e => e.Key));
        for (int i = 0; i < ours.Count; i++) Assert.True(expected[i].Shape.SequenceEqual(ours[i].Shape), $"{ours[i].Key}: {Shape.Format(ours[i].Shape)} vs {Shape.Format(expected[i].Shape)}");
    }

    /// <summary>A bare torchvision resnet18 state dict (with fc) loads as the backbone of a BasicBlock encoder at output stride 8.</summary>
    [Fact]
    public void EncoderCheckpointRecognisesABareBasicBlockStateDict()
    {
        var state = new ResNet(ResNet18, new Generator(2)).StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
        state["fc.weight"] = Tensor.Zeros([1000, 512]);
        state["fc.bias"] = Tensor.Zeros([1000]);
        var (encoder, report) = EncoderCheckpoint.Load(state, FeatureHead.Backbone, new Generator(3));
        Assert.True(report.IsClean, report.ToString());
        Assert.Equal(ResNetBlock.Basic, encoder.Backbone.Config.Block);
        Assert.Equal([2, 2, 2, 2], encoder.Backbone.Config.Layers);
        Assert.Equal(state["layer4.1.conv2.weight"].ToArray<float>(), encoder.StateDict().Single(kv => kv.Key == "backbone.layer4.1.conv2.weight").Value.ToArray<float>());
        encoder.Eval();
        Assert.Equal([1, 512, 8, 8], encoder.Forward(new IlgpuSeg.Autograd.Variable(Tensor.Normal([1, 3, 64, 64], new Generator(4)))).Shape);
    }
}
