using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Training;

/// <summary>
/// Collects the slices an evaluation predicts into one volume per query scan and class, and writes them as NIfTI
/// on the query image's own header (qform, sform, spacing unchanged), so viewers overlay them without resampling:
/// pred_&lt;pid&gt;_&lt;organ&gt;.nii.gz (0/1, first rater; slices outside the scored z-range are 0) and, for DPL,
/// uncertainty_&lt;pid&gt;_&lt;organ&gt;.nii.gz (variance of the foreground probability over its prototype variants).
/// </summary>
public sealed class PredictionVolumes(HeadRunner runner, int inputSize, Accelerator acc)
{
    private readonly Dictionary<(int Pid, int ClassId), (double[] Labels, double[]? Uncertainty)> _volumes = [];

    public void Add(PredictedSlice slice, Scan query)
    {
        int length = query.Image.SliceLength;
        if (!_volumes.TryGetValue((slice.Pid, slice.ClassId), out var volume))
            _volumes[(slice.Pid, slice.ClassId)] = volume = (new double[query.Image.Data.Length], null);
        var probability = slice.Probabilities[0].Data;
        for (int i = 0; i < length; i++) volume.Labels[slice.Z * length + i] = probability[i] > 0.5f ? 1 : 0;
        if (FoldEvaluation.UncertaintySlice(runner, inputSize, acc, slice.SupportImage, slice.SupportMasks[0], slice.QueryImage) is { } u)
        {
            var values = volume.Uncertainty ?? new double[query.Image.Data.Length];
            for (int i = 0; i < length; i++) values[slice.Z * length + i] = u.Data[i];
            _volumes[(slice.Pid, slice.ClassId)] = volume with { Uncertainty = values };
        }
    }

    /// <summary>Writes every volume next to the others in <paramref name="outDir"/>; the headers come from the data folder's image_&lt;pid&gt;.nii.gz.</summary>
    public IReadOnlyList<string> Write(string dataDir, string outDir)
    {
        var written = new List<string>();
        foreach (var pid in _volumes.Keys.Select(k => k.Pid).Distinct().Order())
        {
            var image = Nifti.Read(Path.Combine(dataDir, $"image_{pid}.nii.gz"));
            foreach (var ((_, classId), volume) in _volumes.Where(kv => kv.Key.Pid == pid).OrderBy(kv => kv.Key.ClassId))
            {
                var name = DatasetInfo.Chaos.NameOf(classId);
                written.Add(WriteLike(image, NiftiDataType.UInt8, volume.Labels, Path.Combine(outDir, $"pred_{pid}_{name}.nii.gz")));
                if (volume.Uncertainty != null)
                    written.Add(WriteLike(image, NiftiDataType.Float32, volume.Uncertainty, Path.Combine(outDir, $"uncertainty_{pid}_{name}.nii.gz")));
            }
        }
        return written;
    }

    /// <summary>Writes values on the grid and header of <paramref name="like"/>, through a temporary file and a rename.</summary>
    public static string WriteLike(NiftiImage like, NiftiDataType type, double[] values, string path)
    {
        var temp = path + ".tmp" + (path.EndsWith(".gz", StringComparison.Ordinal) ? ".nii.gz" : ".nii");
        Nifti.Write(temp, like.WithData(type, values));
        File.Move(temp, path, overwrite: true);
        return path;
    }
}
