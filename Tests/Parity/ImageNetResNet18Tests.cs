using IlgpuSeg.Autograd;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Pretrained;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;
using IlgpuSeg.Tests.Cli;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using TempDir = IlgpuSeg.Tests.Checkpoints.PthTestFiles.TempDir;

namespace IlgpuSeg.Tests.Parity;

/// <summary>
/// The ImageNet ResNet-18 of the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (restored with the solution,
/// so these tests need nothing else; without the package they fail naming where it was looked for): read from ONNX
/// into our BasicBlock ResNet, checked against ONNX Runtime, and dilated to output stride 8.
/// </summary>
public class ImageNetResNet18Tests
{
    private static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    private static readonly Lazy<Dictionary<string, Tensor>> Weights = new(() => OnnxResNet.Read(ImageNetResNet18.OnnxPath, ImageNetResNet18.OnnxSha256).State);

    private static string PreprocessPath => Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(ImageNetResNet18.OnnxPath))!, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    private static ResNet Pretrained(bool dilated)
    {
        var config = dilated ? ImageNetResNet18.Config : ImageNetResNet18.Config with { ReplaceStrideWithDilation = [false, false, false] };
        var net = new ResNet(config, new Generator(0));
        net.LoadStateDict(Weights.Value, strict: true);
        net.Eval();
        return net;
    }

    private static float[] RunOnnx(string path, string input, float[] data, int size)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(path, options);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor(data, [1, 3, size, size]))]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    [Fact]
    public void PooledFeaturesMatchOnnxRuntimeOnTheSamePixels()
    {
        const int size = 224;
        var pixels = Tensor.Uniform([1, 3, size, size], new Generator(42), 0, 255).ToArray<float>();
        // ONNX Runtime: the package's preprocessing graph (RGB → BGR minus a per-pixel mean image), then ResNet-18 with its 7×7 average pool.
        var preprocessed = RunOnnx(PreprocessPath, "OriginalInput", pixels, size);
        var expected = RunOnnx(ImageNetResNet18.OnnxPath, "Input247", preprocessed, size);
        Assert.Equal(512, expected.Length);

        // Ours takes torchvision-normalised RGB: the same preprocessed pixels, channels reversed and divided by 255·std.
        int plane = size * size;
        var x = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++)
                x[c * plane + i] = (float)(preprocessed[(2 - c) * plane + i] / (255 * ImageNetStd[c]));
        Variable features;
        using (Tape.NoGrad()) features = Pretrained(dilated: false).Forward(new Variable(Tensor.FromArray(x, [1, 3, size, size])));
        Assert.Equal([1, 512, 7, 7], features.Shape);
        var map = features.Data.ToArray<float>();
        var pooled = Enumerable.Range(0, 512).Select(c => map.AsSpan(c * 49, 49).ToArray().Select(v => (double)v).Average()).ToArray();

        double scale = expected.Max(v => Math.Abs(v)), worst = pooled.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(scale > 0.1 && expected.Count(v => v > 0) > 100, $"ONNX Runtime features look degenerate (max {scale}, {expected.Count(v => v > 0)} positive)");
        Assert.True(worst <= 1e-4 * scale, $"pooled features differ by {worst:E3}, {worst / scale:E3} of their maximum {scale:F4}");
        Console.WriteLine($"ResNet-18 vs ONNX Runtime: largest difference {worst:E3} = {worst / scale:E3} of the maximum {scale:F4}; {expected.Count(v => v > 0)} of 512 positive");
    }

    [Theory]
    [InlineData(128)]
    [InlineData(256)]
    public void AtOutputStride8TheDilatedEncoderMatchesADirectSumAndTheStridedNet(int size)
    {
        var input = new Variable(Tensor.Normal([1, 3, size, size], new Generator((ulong)size)));
        var dilated = Pretrained(dilated: true);
        using var _ = Tape.NoGrad();
        var output = dilated.Forward(input, out var layer3);
        Assert.Equal([1, 512, size / 8, size / 8], output.Shape);
        Assert.Equal([1, 256, size / 8, size / 8], layer3.Shape);

        // layer4.0 (conv1 at the incoming dilation 2, conv2 at 4, 1×1 shortcut without stride) as direct sums from layer3's output.
        var block = (BasicBlock)((Sequential)Child(dilated, "layer4"))[0];
        var blockOutput = block.Forward(layer3).Data.ToArray<float>();
        var h = layer3.Data.ToArray<float>();
        int n = size / 8;
        (int Y, int X)[] positions = [(0, 0), (n - 1, n - 1), (1, n / 2), (n / 2, 3)];
        var reference = positions.Select(p => BasicBlockAt(h, 256, n, "layer4.0.", p.Y, p.X, firstDilation: 2, dilation: 4)).ToArray();
        double scale = reference.SelectMany(r => r).Max(Math.Abs);
        for (int i = 0; i < positions.Length; i++)
            for (int o = 0; o < 512; o++)
            {
                double got = blockOutput[(o * n + positions[i].Y) * n + positions[i].X];
                Assert.True(Math.Abs(got - reference[i][o]) <= 1e-4 * scale, $"layer4.0 at {positions[i]} channel {o}: {got} vs direct sum {reference[i][o]}");
            }

        // À trous: every 4th position of the dilated output is the strided net's output (output stride 32) at that position.
        var strided = Pretrained(dilated: false).Forward(input);
        int m = size / 32;
        Assert.Equal([1, 512, m, m], strided.Shape);
        var (d, s) = (output.Data.ToArray<float>(), strided.Data.ToArray<float>());
        double sScale = s.Max(Math.Abs), worst = 0;
        for (int c = 0; c < 512; c++)
            for (int y = 0; y < m; y++)
                for (int x = 0; x < m; x++)
                    worst = Math.Max(worst, Math.Abs(d[(c * n + 4 * y) * n + 4 * x] - s[(c * m + y) * m + x]));
        Assert.True(worst <= 1e-4 * sScale, $"dilated output at stride-4 positions differs from the strided net by {worst:E3} (max {sScale:F3})");

        // The few-shot encoder on top: the reduce head maps the 512 channels to 256 at the same resolution.
        var encoder = new FewShotEncoder(ImageNetResNet18.Config, FeatureHead.Reduce, new Generator(1));
        encoder.Backbone.LoadStateDict(Weights.Value, strict: true);
        encoder.Eval();
        Assert.Equal([1, 256, size / 8, size / 8], encoder.Forward(input).Shape);
    }

    /// <summary>A BasicBlock in eval mode at one output position of a stride-1 stage, in doubles, straight from the definition.</summary>
    private static double[] BasicBlockAt(float[] input, int inChannels, int n, string prefix, int y, int x, int firstDilation, int dilation)
    {
        var w = Weights.Value;
        int planes = w[prefix + "conv1.weight"].Shape[0];
        var conv1 = w[prefix + "conv1.weight"].ToArray<float>();
        var mid = new Dictionary<(int, int), double[]>();
        double[]? Mid(int yy, int xx)
        {
            if (yy < 0 || yy >= n || xx < 0 || xx >= n) return null; // conv2's zero padding
            if (!mid.TryGetValue((yy, xx), out var v))
                mid[(yy, xx)] = v = Bn(ConvAt(input, inChannels, n, conv1, planes, 3, firstDilation, yy, xx), prefix + "bn1").Select(a => Math.Max(a, 0)).ToArray();
            return v;
        }
        var conv2 = w[prefix + "conv2.weight"].ToArray<float>();
        var sum = new double[planes];
        for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
                if (Mid(y + dilation * (ky - 1), x + dilation * (kx - 1)) is { } v)
                    for (int o = 0; o < planes; o++)
                        for (int c = 0; c < planes; c++)
                            sum[o] += conv2[((o * planes + c) * 3 + ky) * 3 + kx] * v[c];
        var main = Bn(sum, prefix + "bn2");
        var shortcut = Bn(ConvAt(input, inChannels, n, w[prefix + "downsample.0.weight"].ToArray<float>(), planes, 1, 1, y, x), prefix + "downsample.1");
        return main.Zip(shortcut, (a, b) => Math.Max(a + b, 0)).ToArray();
    }

    /// <summary>Σ_c Σ_k w[o, c, k] · in[c, p + dilation·(k − k/2)], zero outside the map.</summary>
    private static double[] ConvAt(float[] input, int channels, int n, float[] weight, int outChannels, int kernel, int dilation, int y, int x)
    {
        var sum = new double[outChannels];
        for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                int yy = y + dilation * (ky - kernel / 2), xx = x + dilation * (kx - kernel / 2);
                if (yy < 0 || yy >= n || xx < 0 || xx >= n) continue;
                for (int o = 0; o < outChannels; o++)
                    for (int c = 0; c < channels; c++)
                        sum[o] += weight[((o * channels + c) * kernel + ky) * kernel + kx] * input[(c * n + yy) * n + xx];
            }
        return sum;
    }

    private static double[] Bn(double[] v, string prefix)
    {
        var w = Weights.Value;
        var (g, b, mean, var) = (w[prefix + ".weight"].ToArray<float>(), w[prefix + ".bias"].ToArray<float>(), w[prefix + ".running_mean"].ToArray<float>(), w[prefix + ".running_var"].ToArray<float>());
        return v.Select((a, c) => (a - mean[c]) / Math.Sqrt(var[c] + 1e-5) * g[c] + b[c]).ToArray();
    }

    private static Module Child(Module module, string name) => module.NamedChildren().Single(c => c.Name == name).Module;

    [Fact]
    public void ConvertWritesTheBackboneAndRefusesBadOnnxFilesInOneLine()
    {
        using var dir = new TempDir();
        var onnx = ImageNetResNet18.OnnxPath;
        var good = dir.File("resnet18.safetensors");
        var (exit, output, error) = CommandRunner.Invoke(ConvertCommand.Create(), "convert", "--from", "onnx", onnx, good, "--sha256", ImageNetResNet18.OnnxSha256);
        Assert.Equal(0, exit);
        Assert.Equal("", error);
        Assert.Contains("wrote 132 tensors", output);
        var (encoder, report) = EncoderCheckpoint.Load(SafeTensors.Read(good).Tensors, FeatureHead.Backbone, new Generator(0));
        Assert.True(report.IsClean, report.ToString());
        Assert.Equal([2, 2, 2, 3], encoder.Backbone.Config.Layers);
        Assert.Equal(ResNetBlock.Basic, encoder.Backbone.Config.Block);
        Assert.Equal(1.0, encoder.Backbone.Config.Width);

        var bytes = File.ReadAllBytes(onnx);
        var truncated = dir.File("truncated.onnx");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var corrupt = dir.File("corrupt.onnx");
        File.WriteAllBytes(corrupt, Tensor.Uniform([4096], new Generator(9), 0, 255).ToArray<float>().Select(v => (byte)v).ToArray());
        var cases = new (string[] Args, string Path, string Says)[]
        {
            ([truncated], truncated, "truncated or corrupt"),
            ([corrupt], corrupt, "corrupt"),
            ([PreprocessPath], PreprocessPath, "not a BasicBlock ResNet graph"),
            ([onnx, "--sha256", new string('0', 64)], onnx, "SHA-256 is " + ImageNetResNet18.OnnxSha256),
        };
        foreach (var (args, path, says) in cases)
        {
            var target = dir.File("out.safetensors");
            (exit, _, error) = CommandRunner.Invoke(ConvertCommand.Create(), ["convert", "--from", "onnx", .. args, target]);
            Assert.Equal(1, exit);
            CommandRunner.AssertOneLineError(error, path, says);
            Assert.False(File.Exists(target));
        }
    }
}
