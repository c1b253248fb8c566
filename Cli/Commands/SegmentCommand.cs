using System.CommandLine;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg segment --weights W --support-image I --support-mask M --query Q --out OUT.nii.gz</c>: segments every
/// axial slice of a new volume 1-shot from one labelled support slice (by default the middle slice of the
/// support mask) and writes a 0/1 label volume on the query's grid and header (for DPL also OUT_uncertainty.nii.gz).
/// </summary>
public static class SegmentCommand
{
    public static Command Create()
    {
        var weights = new Option<string>("--weights") { Description = "A training checkpoint", Required = true };
        var supportImage = new Option<string>("--support-image") { Required = true };
        var supportMask = new Option<string>("--support-mask") { Description = "Support label volume; voxels > 0 (or == --class) are foreground", Required = true };
        var query = new Option<string>("--query") { Required = true };
        var output = new Option<string>("--out") { Required = true };
        var slice = new Option<int?>("--support-slice") { Description = "Support slice index (default: the middle labelled slice)" };
        var labelClass = new Option<string?>("--class") { Description = "Use only this class of the support mask: a label value or a name of the checkpoint's dataset (e.g. 2 or RK)" };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("segment", "Segment a new volume from one labelled support slice")
            { weights, supportImage, supportMask, query, output, slice, labelClass, threads };
        command.SetAction(parse =>
        {
            try
            {
                var ck = Checkpoint.Load(parse.GetValue(weights)!);
                var acc = Context.Default.CreateCpuAccelerator(parse.GetValue(threads));
                var runner = Trainer.LoadRunner(ck, acc);
                runner.Model.Eval();
                var (image, mask) = Nifti.ReadPair(parse.GetValue(supportImage)!, parse.GetValue(supportMask)!);
                var support = ToVolume(image, ck.Config.Intensity);
                int? only = parse.GetValue(labelClass) is { } named ? ck.Config.Dataset.ClassOf(named) : null;
                var maskValues = mask.GetData();
                var fg = new Volume<byte>(support.Width, support.Height, support.Depth,
                    Array.ConvertAll(maskValues, v => (only == null ? v > 0 : v == only) ? (byte)1 : (byte)0));
                var labelled = Enumerable.Range(0, fg.Depth).Where(z => fg.Slice(z).Data.Any(v => v != 0)).ToArray();
                if (labelled.Length == 0) throw new DataFormatException(mask.Source, "the support mask has no foreground voxel");
                int z0 = parse.GetValue(slice) ?? labelled[labelled.Length / 2];
                if (!labelled.Contains(z0)) throw new ArgumentException($"--support-slice {z0}: that slice of {mask.Source} has no foreground");

                var queryImage = Nifti.Read(parse.GetValue(query)!);
                var queryVolume = ToVolume(queryImage, ck.Config.Intensity);
                var labels = new double[queryVolume.Data.Length];
                double[]? uncertainty = null;
                for (int z = 0; z < queryVolume.Depth; z++)
                {
                    var p = FoldEvaluation.PredictSlice(runner, ck.Config.InputSize, acc, support.Slice(z0), [fg.Slice(z0)], queryVolume.Slice(z))[0];
                    for (int i = 0; i < p.Data.Length; i++) labels[z * queryVolume.SliceLength + i] = p.Data[i] > 0.5f ? 1 : 0;
                    if (FoldEvaluation.UncertaintySlice(runner, ck.Config.InputSize, acc, support.Slice(z0), fg.Slice(z0), queryVolume.Slice(z)) is { } u)
                    {
                        uncertainty ??= new double[queryVolume.Data.Length];
                        for (int i = 0; i < u.Data.Length; i++) uncertainty[z * queryVolume.SliceLength + i] = u.Data[i];
                    }
                }
                var outPath = parse.GetValue(output)!;
                PredictionVolumes.WriteLike(queryImage, NiftiDataType.UInt8, labels, outPath);
                parse.InvocationConfiguration.Output.WriteLine($"support slice {z0}; {labels.Count(v => v > 0)} foreground voxels in {queryVolume.Depth} slices; wrote {outPath}");
                if (uncertainty != null)
                    parse.InvocationConfiguration.Output.WriteLine($"wrote DPL's uncertainty map {PredictionVolumes.WriteLike(queryImage, NiftiDataType.Float32, uncertainty, UncertaintyPath(outPath))}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or DataFormatException or CheckpointFormatException or StateDictMismatchException or IOException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>OUT.nii.gz → OUT_uncertainty.nii.gz (same extension).</summary>
    public static string UncertaintyPath(string outPath)
    {
        var extension = outPath.EndsWith(".nii.gz", StringComparison.Ordinal) ? ".nii.gz" : Path.GetExtension(outPath);
        return outPath[..^extension.Length] + "_uncertainty" + extension;
    }

    /// <summary>A z-scored 3D volume (slices as the training loader sees them: CT with the training fold's statistics).</summary>
    private static Volume<float> ToVolume(NiftiImage image, IntensityStatistics? intensity)
    {
        var shape = image.Shape;
        if (shape.Length < 3 || shape.Skip(3).Any(n => n != 1))
            throw new DataFormatException(image.Source, $"expected a 3D volume, got shape {string.Join("x", shape)}");
        return new Volume<float>(shape[0], shape[1], shape[2], intensity is { } stats
            ? ZScore.Normalize(image.GetData(), stats, image.Source)
            : ZScore.Normalize(image.GetData(), image.Source));
    }
}
