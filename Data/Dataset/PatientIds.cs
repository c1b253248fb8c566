using System.Text.RegularExpressions;

namespace IlgpuSeg.Data.Dataset;

/// <summary>Patient ids as SSL-ALPNet reads them: the last integer in an <c>image_*.nii.gz</c> file name.</summary>
public static partial class PatientIds
{
    [GeneratedRegex(@"\d+")]
    private static partial Regex Digits();

    /// <summary>The last run of digits in the file name (not the directory), or null when it has none.</summary>
    public static int? Parse(string path)
    {
        var matches = Digits().Matches(Path.GetFileName(path));
        return matches.Count == 0 ? null : int.Parse(matches[^1].Value);
    }

    /// <summary>The pids of every <c>image_*.nii.gz</c> in a folder, sorted numerically; throws when there are none.</summary>
    public static int[] InFolder(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DataFormatException(directory, "data folder not found");
        var pids = Directory.EnumerateFiles(directory, "image_*.nii.gz")
            .Select(f => Parse(f) ?? throw new DataFormatException(f, "image file name holds no patient id (expected image_<pid>.nii.gz)"))
            .Order()
            .ToArray();
        if (pids.Length == 0)
            throw new DataFormatException(directory, "no scans: expected image_<pid>.nii.gz files");
        var duplicate = pids.GroupBy(p => p).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new DataFormatException(directory, $"two image files have patient id {duplicate.Key}");
        return pids;
    }
}
