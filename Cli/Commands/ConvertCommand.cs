using System.CommandLine;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Commands;

/// <summary><c>ilgpuseg convert &lt;in&gt; &lt;out.safetensors&gt;</c>: a PyTorch state dict as safetensors.</summary>
public static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "A PyTorch checkpoint (torch.save zip); a safetensors file is accepted too" };
        var output = new Argument<string>("output") { Description = "The safetensors file to write (replaced atomically)" };
        var command = new Command("convert", "Convert a PyTorch state dict to safetensors (float16/bfloat16/int32/uint8/bool as F32, int64 as F64)")
        {
            input,
            output,
        };
        command.SetAction(parse => Run(parse.GetValue(input)!, parse.GetValue(output)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
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
        try { SafeTensors.Write(outputPath, contents.ToDictionary()); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {outputPath}: cannot write: {e.Message}");
            return 1;
        }
        output.WriteLine($"wrote {contents.Entries.Count} tensors to {outputPath}");
        return 0;
    }
}
