using System.Text.Json;
using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Models;

public class ModuleTests
{
    /// <summary>Our DeepLabV3-ResNet101 has torchvision's state-dict keys, in torchvision's order, with its shapes.</summary>
    [Fact]
    public void DeepLabV3ResNet101HasTorchvisionKeysAndShapes()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "torchvision_keys.json")));
        var expected = doc.RootElement.GetProperty("deeplabv3_resnet101").EnumerateArray()
            .Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt32()).ToArray())).ToList();
        var model = new DeepLabV3(ResNetConfig.ResNet101Os8, 21, new Generator(1));
        var ours = model.StateDict().Select(kv => (kv.Key, kv.Value.Shape)).ToList();
        Assert.Equal(expected.Select(e => e.Item1), ours.Select(e => e.Key));
        for (int i = 0; i < ours.Count; i++) Assert.True(expected[i].Item2.SequenceEqual(ours[i].Shape), $"{ours[i].Key}: {Shape.Format(ours[i].Shape)} vs {Shape.Format(expected[i].Item2)}");
    }

    private static FewShotEncoder Tiny(FeatureHead head, ulong seed = 1) =>
        new(new ResNetConfig([1, 1, 2, 2], [false, true, true], 1 / 16.0), head, new Generator(seed), features: 16);

    [Fact]
    public void LoadStateDictReportsMissingUnexpectedAndMismatchedByName()
    {
        var model = Tiny(FeatureHead.Reduce);
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state.Remove("backbone.conv1.weight");
        state["extra.weight"] = Tensor.Zeros([1]);
        state["reduce.weight"] = Tensor.Zeros([3, 3, 1, 1]);
        var e = Assert.Throws<StateDictMismatchException>(() => model.LoadStateDict(state));
        Assert.Contains("missing keys (1): backbone.conv1.weight", e.Message);
        Assert.Contains("unexpected keys (1): extra.weight", e.Message);
        Assert.Contains("reduce.weight: checkpoint [3, 3, 1, 1], model [16, 128, 1, 1]", e.Message);

        var report = model.LoadStateDict(state, strict: false);
        Assert.Equal(["backbone.conv1.weight"], report.Missing);
    }

    [Fact]
    public void StateDictRoundTripCopiesValues()
    {
        var a = Tiny(FeatureHead.Aspp, seed: 1);
        var b = Tiny(FeatureHead.Aspp, seed: 2);
        Assert.NotEqual(a.StateDict()[0].Value.ToArray<float>(), b.StateDict()[0].Value.ToArray<float>());
        b.LoadStateDict(a.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value));
        foreach (var (x, y) in a.StateDict().Zip(b.StateDict()))
            Assert.Equal(x.Value.ToDoubleArray(), y.Value.ToDoubleArray());
    }

    [Fact]
    public void TrainAndEvalReachEveryChildAndBatchNormCountsBatches()
    {
        var model = Tiny(FeatureHead.Reduce);
        model.Eval();
        Assert.All(AllModules(model), m => Assert.False(m.IsTraining));
        model.Train();
        using (Tape.NoGrad()) model.Forward(new Variable(Tensor.Normal([2, 3, 32, 32], new Generator(3))));
        var tracked = model.StateDict().Where(kv => kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(tracked);
        Assert.All(tracked, kv => Assert.Equal(1.0, kv.Value.Item()));
    }

    private static IEnumerable<Module> AllModules(Module m) => m.NamedChildren().SelectMany(c => AllModules(c.Module)).Prepend(m);

    [Theory]
    [InlineData(FeatureHead.Reduce, 16)]
    [InlineData(FeatureHead.Aspp, 16)]
    [InlineData(FeatureHead.Backbone, 128)]
    public void EncoderOutputHasStride8AndHeadChannels(FeatureHead head, int channels)
    {
        using var _ = Tape.NoGrad();
        var model = Tiny(head);
        model.Eval();
        var y = model.Forward(new Variable(Tensor.Normal([2, 3, 64, 48], new Generator(4))));
        Assert.Equal([2, channels, 8, 6], y.Shape);
    }
}
