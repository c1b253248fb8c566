using System.CommandLine;
using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg encode --weights W --input IN --output OUT [--head reduce|aspp|backbone] [--device cpu]</c>: runs the
/// few-shot encoder in eval mode on the tensor named <c>input</c> (N×3×H×W) and writes the features as <c>output</c>.
/// </summary>
public static class EncodeCommand
{
    public static Command Create()
    {
        var weights = new Option<string>("--weights") { Description = "Encoder weights: .pth or .safetensors (torchvision ResNet / DeepLabv3 names)", Required = true };
        var input = new Option<string>("--input") { Description = "safetensors file with a tensor named 'input' of shape N×3×H×W", Required = true };
        var output = new Option<string>("--output") { Description = "safetensors file to write the features to, as 'output'", Required = true };
        var head = new Option<string>("--head") { Description = "Feature head: reduce, aspp or backbone", DefaultValueFactory = _ => "reduce" };
        var device = new Option<string>("--device") { Description = "Accelerator (cpu)", DefaultValueFactory = _ => "cpu" };
        var command = new Command("encode", "Run the encoder in eval mode on an input tensor and write its features") { weights, input, output, head, device };
        command.SetAction(parse => Run(parse.GetValue(weights)!, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(head)!, parse.GetValue(device)!,
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    public static int Run(string weightsPath, string inputPath, string outputPath, string headName, string device, TextWriter output, TextWriter error)
    {
        FeatureHead head;
        switch (headName)
        {
            case "reduce": head = FeatureHead.Reduce; break;
            case "aspp": head = FeatureHead.Aspp; break;
            case "backbone": head = FeatureHead.Backbone; break;
            default:
                error.WriteLine($"error: unknown head '{headName}' (use reduce, aspp or backbone)");
                return 1;
        }
        if (device != "cpu")
        {
            error.WriteLine($"error: device '{device}' is not available in this build (use cpu)");
            return 1;
        }
        try
        {
            var stateDict = StateDictFile.Read(weightsPath).Entries.ToDictionary(e => e.Name, e => e.Value);
            var (encoder, report) = EncoderCheckpoint.Load(stateDict, head, new Generator(0));
            var inputs = SafeTensors.Read(inputPath).Tensors;
            if (!inputs.TryGetValue("input", out var x))
                throw new CheckpointFormatException($"{inputPath}: no tensor named 'input' (has: {string.Join(", ", inputs.Keys)})");
            if (x.Rank != 4 || x.Shape[1] != 3)
                throw new CheckpointFormatException($"{inputPath}: 'input' is {x.ShapeString}; expected N×3×H×W");
            encoder.Eval();
            Tensor features;
            using (Tape.NoGrad()) features = encoder.Forward(new Variable(x.To(DType.Float32))).Data;
            SafeTensors.Write(outputPath, new Dictionary<string, Tensor> { ["output"] = features });
            output.WriteLine($"{weightsPath}: ResNet {string.Join("-", encoder.Backbone.Config.Layers)} width {encoder.Backbone.Config.Width}, {headName} head"
                + (report.Unexpected.Count > 0 ? $" ({report.Unexpected.Count} checkpoint tensors unused)" : ""));
            output.WriteLine($"wrote {outputPath}: output {features.ShapeString}");
            return 0;
        }
        catch (Exception e) when (e is CheckpointFormatException or StateDictMismatchException or ShapeException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
