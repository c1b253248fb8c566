using System.CommandLine;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Commands;

/// <summary><c>ilgpuseg info &lt;file&gt;</c>: the tensors of a .pth or .safetensors state dict and their parameter count.</summary>
public static class InfoCommand
{
    /// <summary>BatchNorm buffers: counted in the total but not as trainable parameters.</summary>
    private static readonly string[] BufferNames = ["running_mean", "running_var", "num_batches_tracked"];

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A PyTorch checkpoint (torch.save zip) or a safetensors file" };
        var command = new Command("info", "List a state dict's tensors (name, stored dtype, shape) and count its parameters") { file };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Writes one line per tensor then the totals and returns 0, or writes one line naming the file and the problem and returns 1.</summary>
    public static int Run(string path, TextWriter output, TextWriter error)
    {
        StateDictFile.Contents contents;
        try { contents = StateDictFile.Read(path); }
        catch (CheckpointFormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }

        var entries = contents.Entries;
        // A safetensors file may hold no tensors at all.
        int nameWidth = entries.Select(e => e.Name.Length).DefaultIfEmpty().Max(), dtypeWidth = entries.Select(e => e.StoredDType.Length).DefaultIfEmpty().Max();
        output.WriteLine($"{path} ({contents.Format}, {entries.Count} tensors)");
        foreach (var e in entries)
            output.WriteLine($"{e.Name.PadRight(nameWidth)}  {e.StoredDType.PadRight(dtypeWidth)}  {e.Value.ShapeString}");
        long total = entries.Sum(e => (long)e.Value.Count);
        long parameters = entries.Where(e => !BufferNames.Contains(e.Name[(e.Name.LastIndexOf('.') + 1)..])).Sum(e => (long)e.Value.Count);
        output.WriteLine($"elements: {total}");
        output.WriteLine($"elements excluding {string.Join("/", BufferNames)}: {parameters}");
        return 0;
    }
}
