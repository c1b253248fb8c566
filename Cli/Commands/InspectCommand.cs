using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using IlgpuSeg.Data;

namespace IlgpuSeg.Cli.Commands;

/// <summary><c>ilgpuseg inspect &lt;file&gt;</c>: a NIfTI image's geometry and value range, as JSON on stdout.</summary>
public static class InspectCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        // Float images may hold NaN or infinities; write them rather than fail.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A NIfTI-1 image, .nii or .nii.gz" };
        var command = new Command("inspect", "Print a NIfTI image's shape, datatype, spacing, affine, orientation and value range as JSON")
        {
            file,
        };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Writes the JSON summary and returns 0, or writes one line naming the file and the problem and returns 1.</summary>
    public static int Run(string path, TextWriter output, TextWriter error)
    {
        NiftiImage image;
        try
        {
            image = Nifti.Read(path);
        }
        catch (DataFormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {path}: {e.Message}");
            return 1;
        }

        var data = image.GetData();
        var affine = image.Affine;
        var summary = new
        {
            file = path,
            shape = image.Shape,
            datatype = image.DataType.Name(),
            spacing = image.Spacing,
            affine = Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 4).Select(j => affine[i, j] + 0.0).ToArray()).ToArray(), // + 0.0 prints -0 as 0
            affineSource = image.AffineSource.ToString().ToLowerInvariant(),
            orientation = image.Orientation,
            min = data.Min(),
            max = data.Max(),
            mean = data.Average(),
        };
        output.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
        return 0;
    }
}
