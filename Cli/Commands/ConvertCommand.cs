using System.CommandLine;
using IlgpuSeg.Cli.Pretrained;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg convert [--from pth|onnx] &lt;in&gt; &lt;out.safetensors&gt;</c>: a PyTorch state dict, or the trunk of an ONNX
/// BasicBlock ResNet (torchvision names), as safetensors.
/// </summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "A PyTorch checkpoint (torch.save zip); a safetensors file is accepted too" };
        var output = new Argument<string>("output") { Description = "The safetensors file to write (replaced atomically)" };
        var from = new Option<string>("--from")
        {
            Description = "pth: a PyTorch state dict; onnx: a BasicBlock ResNet taking BGR 0-255 minus the mean (ML.NET's ResNet-18), "
                + "written with torchvision names and conv1 folded to take torchvision-normalised RGB",
            DefaultValueFactory = _ => "pth",
        };
        from.AcceptOnlyFromAmong("pth", "onnx");
        var sha256 = new Option<string?>("--sha256") { Description = "With --from onnx: the input's expected SHA-256; a different file is refused" };
        var command = new Command("convert", "Convert a PyTorch state dict (float16/bfloat16/int32/uint8/bool as F32, int64 as F64) or an ONNX ResNet to safetensors")
        {
            input,
            output,
            from,
            sha256,
        };
        command.SetAction(parse => parse.GetValue(from) == "onnx"
            ? RunOnnx(parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(sha256), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error)
            : Run(parse.GetValue(input)!, parse.GetValue(output)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>The ONNX path: writes the backbone state dict and returns 0, or one line naming the file and the problem and 1.</summary>
    public static int RunOnnx(string inputPath, string outputPath, string? expectedSha256, TextWriter output, TextWriter error)
    {
        Dictionary<string, Tensor> state;
        string sha;
        try { (state, sha) = OnnxResNet.Read(inputPath, expectedSha256); }
        catch (CheckpointFormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        return Write(outputPath, state, OnnxResNet.Metadata(inputPath, sha), output, error);
    }

    /// <summary>Writes the file and returns 0, or writes one line naming the file and the problem and returns 1.</summary>
    public static int Run(string inputPath, string outputPath, TextWriter output, TextWriter error)
    {
        StateDictFile.Contents contents;
        try { contents = StateDictFile.Read(inputPath); }
        catch (CheckpointFormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        return Write(outputPath, contents.ToDictionary(), null, output, error);
    }

    private static int Write(string outputPath, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata, TextWriter output, TextWriter error)
    {
        try { SafeTensors.Write(outputPath, tensors, metadata); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {outputPath}: cannot write: {e.Message}");
            return 1;
        }
        output.WriteLine($"wrote {tensors.Count} tensors to {outputPath}");
        return 0;
    }
}
