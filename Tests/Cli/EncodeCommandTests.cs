using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Engine;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Cli;

public class EncodeCommandTests
{
    private static string Fixture(string name) => Path.Combine(Prerequisites.RepoRoot, "Tests", "Fixtures", "encoder", name);

    private static (int Code, string Out, string Err) Run(string weights, string input, string output, string head = "aspp", string device = "cpu")
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        int code = EncodeCommand.Run(weights, input, output, head, device, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string WriteInput(string dir, Tensor x)
    {
        var path = Path.Combine(dir, "in.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["input"] = x });
        return path;
    }

    [Theory]
    [InlineData("aspp")]
    [InlineData("reduce")]
    [InlineData("backbone")]
    public void EncodesTheFixtureInputLikeTorchvision(string head)
    {
        var dir = Directory.CreateTempSubdirectory("ilgpuseg-encode").FullName;
        try
        {
            var expected = SafeTensors.Read(Fixture("eval.safetensors")).Tensors;
            var output = Path.Combine(dir, "out.safetensors");
            var (code, stdout, stderr) = Run(Fixture("encoder.pth"), WriteInput(dir, expected["x"]), output, head);
            Assert.True(code == 0, stderr);
            Assert.Contains("ResNet 1-1-2-2 width 0.0625", stdout);
            var y = SafeTensors.Read(output).Tensors["output"].ToDoubleArray();
            var e = expected[head].ToDoubleArray();
            double scale = e.Max(Math.Abs);
            Assert.All(e.Zip(y), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-4 * scale));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadArgumentsGiveOneLineAndExitCode1()
    {
        var dir = Directory.CreateTempSubdirectory("ilgpuseg-encode").FullName;
        try
        {
            var input = WriteInput(dir, Tensor.Zeros([1, 3, 32, 32]));
            var output = Path.Combine(dir, "out.safetensors");
            var r = Run(Fixture("encoder.pth"), input, output, head: "unet");
            Assert.Equal(1, r.Code);
            Assert.Contains("unknown head 'unet'", r.Err);

            r = Run(Fixture("encoder.pth"), input, output, device: "cuda");
            Assert.Equal(1, r.Code);
            Assert.Contains("device 'cuda'", r.Err);

            var wrongName = Path.Combine(dir, "wrong.safetensors");
            SafeTensors.Write(wrongName, new Dictionary<string, Tensor> { ["image"] = Tensor.Zeros([1, 3, 32, 32]) });
            r = Run(Fixture("encoder.pth"), wrongName, output);
            Assert.Equal(1, r.Code);
            Assert.Contains("no tensor named 'input'", r.Err);
            Assert.Contains(wrongName, r.Err);

            var corrupt = Path.Combine(dir, "corrupt.pth");
            File.WriteAllBytes(corrupt, File.ReadAllBytes(Fixture("encoder.pth")).AsSpan(0, 1000).ToArray());
            r = Run(corrupt, input, output);
            Assert.Equal(1, r.Code);
            Assert.Contains(corrupt, r.Err);
            Assert.False(File.Exists(output));
        }
        finally { Directory.Delete(dir, true); }
    }
}
