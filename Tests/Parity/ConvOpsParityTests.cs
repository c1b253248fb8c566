using System.Text.Json;
using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Parity;

/// <summary>
/// Float32 forward and backward of the conv network ops against PyTorch 1.13, from the committed
/// fixtures that tools/make_fixtures.py writes (see Tests/Fixtures/README.md).
/// </summary>
public class ConvOpsParityTests
{
    private static readonly Lazy<SafeTensors.Contents> Fixtures = new(() =>
        SafeTensors.Read(Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "conv_ops.safetensors")));

    public static TheoryData<string> Cases(string op)
    {
        var data = new TheoryData<string>();
        foreach (var key in Fixtures.Value.Metadata.Keys.Where(k => k.StartsWith(op + "/", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            data.Add(key);
        return data;
    }

    private static Tensor T(string @case, string name) => Fixtures.Value.Tensors[$"{@case}/{name}"];

    private static bool Has(string @case, string name) => Fixtures.Value.Tensors.ContainsKey($"{@case}/{name}");

    private static JsonElement Params(string @case) => JsonDocument.Parse(Fixtures.Value.Metadata[@case]).RootElement;

    /// <summary>max |ours − torch| ≤ 1e-5 · max(1, max |torch|), reported with the case and tensor.</summary>
    private static void Near(string what, Tensor expected, Tensor? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Shape, actual!.Shape);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        double scale = Math.Max(1, e.Max(Math.Abs)), worst = 0;
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]));
        Assert.True(worst <= 1e-5 * scale, $"{what}: max |diff| {worst:G3} against max |torch| {scale:G3}");
    }

    /// <summary>Runs f on fresh leaves for the named inputs, backpropagates grad_y and compares y and every grad_input.</summary>
    private static void CheckCase(string @case, string[] inputs, Func<Variable[], Variable> f)
    {
        var leaves = inputs.Select(n => Variable.Parameter(T(@case, n))).ToArray();
        var y = f(leaves);
        Near($"{@case}/y", T(@case, "y"), y.Data);
        y.Backward(T(@case, "grad_y"));
        for (int i = 0; i < inputs.Length; i++) Near($"{@case}/grad_{inputs[i]}", T(@case, "grad_" + inputs[i]), leaves[i].Grad);
    }

    [Fact]
    public void FixturesHoldEveryOp()
    {
        foreach (var op in new[] { "conv2d", "batchnorm2d", "maxpool2d", "avgpool2d", "adaptive_avgpool2d", "interpolate" })
            Assert.True(Fixtures.Value.Metadata.Keys.Count(k => k.StartsWith(op + "/", StringComparison.Ordinal)) >= 2, $"no fixtures for {op}");
    }

    [Theory]
    [MemberData(nameof(Cases), "conv2d")]
    public void Conv2d(string @case)
    {
        var p = Params(@case);
        int stride = p.GetProperty("stride").GetInt32(), padding = p.GetProperty("padding").GetInt32(), dilation = p.GetProperty("dilation").GetInt32();
        bool bias = p.GetProperty("bias").GetBoolean();
        Assert.Equal(bias, Has(@case, "bias"));
        string[] inputs = bias ? ["x", "weight", "bias"] : ["x", "weight"];
        CheckCase(@case, inputs, v => F.Conv2d(v[0], v[1], bias ? v[2] : null, stride, padding, dilation));
    }

    [Theory]
    [MemberData(nameof(Cases), "batchnorm2d")]
    public void BatchNorm2d(string @case)
    {
        var p = Params(@case);
        bool training = p.GetProperty("training").GetBoolean();
        var runningMean = T(@case, "running_mean_in").Clone();
        var runningVar = T(@case, "running_var_in").Clone();
        CheckCase(@case, ["x", "weight", "bias"], v => F.BatchNorm(v[0], runningMean, runningVar, v[1], v[2], training,
            p.GetProperty("momentum").GetDouble(), p.GetProperty("eps").GetDouble()));
        Near($"{@case}/running_mean_out", T(@case, "running_mean_out"), runningMean);
        Near($"{@case}/running_var_out", T(@case, "running_var_out"), runningVar);
    }

    [Theory]
    [MemberData(nameof(Cases), "maxpool2d")]
    public void MaxPool2d(string @case)
    {
        var p = Params(@case);
        CheckCase(@case, ["x"], v => F.MaxPool2d(v[0], p.GetProperty("kernel").GetInt32(), p.GetProperty("stride").GetInt32(), p.GetProperty("padding").GetInt32()));
    }

    [Theory]
    [MemberData(nameof(Cases), "avgpool2d")]
    public void AvgPool2d(string @case)
    {
        var p = Params(@case);
        CheckCase(@case, ["x"], v => F.AvgPool2d(v[0], p.GetProperty("kernel").GetInt32(), p.GetProperty("stride").GetInt32(), p.GetProperty("padding").GetInt32()));
    }

    [Theory]
    [MemberData(nameof(Cases), "adaptive_avgpool2d")]
    public void AdaptiveAvgPool2d(string @case)
    {
        var output = Params(@case).GetProperty("output");
        CheckCase(@case, ["x"], v => F.AdaptiveAvgPool2d(v[0], output[0].GetInt32(), output[1].GetInt32()));
    }

    [Theory]
    [MemberData(nameof(Cases), "interpolate")]
    public void Interpolate(string @case)
    {
        var p = Params(@case);
        var size = p.GetProperty("size");
        CheckCase(@case, ["x"], v => F.Interpolate(v[0], size[0].GetInt32(), size[1].GetInt32(), p.GetProperty("align_corners").GetBoolean()));
    }
}
