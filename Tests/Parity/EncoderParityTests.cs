using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Parity;

/// <summary>
/// The few-shot encoder against torchvision: tools/make_encoder_fixtures.py builds a 1/16-width ResNet
/// (blocks [1, 1, 2, 2], output stride 8) and torchvision's ASPP from torchvision's own classes, saves the
/// state dict with torch.save, and records eval-mode outputs and training-mode gradients. We load the .pth
/// directly.
/// </summary>
public class EncoderParityTests
{
    private static string Fixture(string name) => Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "encoder", name);

    private static readonly ResNetConfig Config = new([1, 1, 2, 2], [false, true, true], 1 / 16.0);

    private static FewShotEncoder Load(FeatureHead head, out LoadReport report)
    {
        var model = new FewShotEncoder(Config, head, new Generator(0), features: 16);
        report = model.LoadStateDict(PthReader.ReadStateDict(Fixture("encoder.pth")), strict: false);
        return model;
    }

    /// <summary>max |ours − torch| ≤ tolerance · max |torch|.</summary>
    private static void Near(string what, Tensor expected, Tensor? actual, double tolerance)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Shape, actual!.Shape);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        double scale = e.Max(Math.Abs), worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]));
        Assert.True(worst <= tolerance * scale, $"{what}: max |diff| {worst:G3} against max |torch| {scale:G3}");
    }

    [Theory]
    [InlineData(FeatureHead.Backbone, "backbone")]
    [InlineData(FeatureHead.Aspp, "aspp")]
    [InlineData(FeatureHead.Reduce, "reduce")]
    public void EvalOutputsMatchTorchvision(FeatureHead head, string output)
    {
        var model = Load(head, out var report);
        Assert.Empty(report.Missing);
        Assert.Empty(report.ShapeMismatches);
        // Only the other heads' keys are left over.
        Assert.All(report.Unexpected, k => Assert.True(head == FeatureHead.Aspp ? k == "reduce.weight"
            : head == FeatureHead.Reduce ? k.StartsWith("classifier.0.", StringComparison.Ordinal)
            : k == "reduce.weight" || k.StartsWith("classifier.0.", StringComparison.Ordinal), k));
        model.Eval();
        var expected = SafeTensors.Read(Fixture("eval.safetensors")).Tensors;
        using var _ = Tape.NoGrad();
        var y = model.Forward(new Variable(expected["x"]));
        Near(output, expected[output], y.Data, 1e-4);
    }

    [Fact]
    public void TrainingModeGradientsOfEveryParameterMatchTorchvision()
    {
        var model = Load(FeatureHead.Reduce, out _);
        model.Train();
        var expected = SafeTensors.Read(Fixture("train.safetensors")).Tensors;
        Tape.Clear();
        var y = model.Forward(new Variable(expected["x"]));
        Near("y", expected["y"], y.Data, 1e-4);
        y.Backward(expected["grad_y"]);
        int checkedCount = 0;
        foreach (var (name, p) in model.NamedParameters())
        {
            Near("grad of " + name, expected["grad/" + name], p.Grad, 1e-4);
            checkedCount++;
        }
        Assert.Equal(expected.Keys.Count(k => k.StartsWith("grad/", StringComparison.Ordinal)), checkedCount);
        foreach (var (name, b) in model.NamedBuffers().Where(b => !b.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)))
            Near("running statistic " + name, expected["state/" + name], b, 1e-4);
    }
}
