namespace IlgpuSeg.Data.Dataset;

/// <summary>What to load from an SSL-ALPNet data folder.</summary>
public sealed record ScanFolderOptions
{
    /// <summary>Load only these patient ids (all when null). A pid without an image file is an error.</summary>
    public IReadOnlyCollection<int>? Pids { get; init; }

    /// <summary>Fail when a scan has no <c>superpix-MIDDLE_&lt;pid&gt;.nii.gz</c> (self-supervised training needs them).</summary>
    public bool RequireSuperpixels { get; init; }

    /// <summary>
    /// Keep only rows and columns [0, n) in-plane, as the reference loaders' <c>[:256, :256]</c> do for the
    /// 257 × 257 SABS volumes; null keeps the full slice.
    /// </summary>
    public int? CropInPlane { get; init; }

    /// <summary>The superpixel file prefix; "MIDDLE" is the only mode SSL-ALPNet implements.</summary>
    public string SuperpixelMode { get; init; } = "MIDDLE";

    /// <summary>Where the superpixel files are, when not beside the images (e.g. read-only shared data).</summary>
    public string? SuperpixelDirectory { get; init; }

    /// <summary>
    /// Z-score every scan with these statistics (CT: the training fold's, see <see cref="ScanFolder.PooledStatistics"/>);
    /// null z-scores each volume with its own (MR).
    /// </summary>
    public IntensityStatistics? Intensity { get; init; }
}

/// <summary>
/// An SSL-ALPNet data folder: <c>image_&lt;pid&gt;.nii.gz</c>, <c>label_&lt;pid&gt;.nii.gz</c>, optional
/// <c>superpix-MIDDLE_&lt;pid&gt;.nii.gz</c> and <c>classmap_1.json</c>. Scans are sorted by pid (numerically);
/// images are z-scored at load (per volume, or with given statistics). Slices are axial (last NIfTI axis); see <see cref="Slice2D{T}"/> for
/// the in-plane layout.
/// </summary>
public sealed class ScanFolder
{
    private ScanFolder(string directory, int[] allPids, ClassMap classMap, IReadOnlyList<Scan> scans)
    {
        Directory = directory;
        AllPids = allPids;
        ClassMap = classMap;
        Scans = scans;
    }

    public string Directory { get; }

    /// <summary>Every pid in the folder, sorted, whether loaded or not (the fold split works on this list).</summary>
    public int[] AllPids { get; }

    /// <summary>The folder's <c>classmap_1.json</c>.</summary>
    public ClassMap ClassMap { get; }

    /// <summary>The loaded scans, sorted by pid.</summary>
    public IReadOnlyList<Scan> Scans { get; }

    public Scan Get(int pid) =>
        Scans.FirstOrDefault(s => s.Pid == pid) ?? throw new KeyNotFoundException($"scan {pid} is not loaded from {Directory}");

    public static ScanFolder Load(string directory, ScanFolderOptions? options = null)
    {
        options ??= new ScanFolderOptions();
        var allPids = PatientIds.InFolder(directory);
        var classMap = ClassMap.Read(directory, 1);
        var wanted = options.Pids ?? allPids;
        var missing = wanted.Where(p => !allPids.Contains(p)).ToArray();
        if (missing.Length > 0)
            throw new DataFormatException(directory, $"no image file for patient id(s) {string.Join(", ", missing)}");
        var scans = wanted.Order().Select(pid => LoadScan(directory, pid, options)).ToArray();
        return new ScanFolder(directory, allPids, classMap, scans);
    }

    /// <summary>The statistics of all voxels of these scans' images (PROTOCOL §1.4: CT uses the training fold's), read one at a time.</summary>
    public static IntensityStatistics PooledStatistics(string directory, IEnumerable<int> pids) =>
        ZScore.Pooled(pids.Order().Select(pid => Nifti.Read(Path.Combine(directory, $"image_{pid}.nii.gz")).GetData()));

    private static Scan LoadScan(string directory, int pid, ScanFolderOptions options)
    {
        var imagePath = Path.Combine(directory, $"image_{pid}.nii.gz");
        var labelPath = Path.Combine(directory, $"label_{pid}.nii.gz");
        if (!File.Exists(labelPath))
            throw new DataFormatException(labelPath, $"label file not found for image {imagePath}");
        var (image, label) = Nifti.ReadPair(imagePath, labelPath);
        var (nx, ny, nz) = Dimensions(image);
        var zscored = options.Intensity is { } stats
            ? ZScore.Normalize(image.GetData(), stats, imagePath)
            : ZScore.Normalize(image.GetData(), imagePath);

        var superPath = Path.Combine(options.SuperpixelDirectory ?? directory, $"superpix-{options.SuperpixelMode}_{pid}.nii.gz");
        Volume<int>? superpixels = null;
        if (File.Exists(superPath))
        {
            var super = Nifti.Read(superPath);
            Nifti.CheckSameShape(image, super);
            superpixels = Crop(new Volume<int>(nx, ny, nz, ToIntegers(super)), options.CropInPlane);
        }
        else if (options.RequireSuperpixels)
            throw new DataFormatException(superPath, $"superpixel file not found for image {imagePath}");

        return new Scan(pid,
            Crop(new Volume<float>(nx, ny, nz, zscored), options.CropInPlane),
            Crop(new Volume<int>(nx, ny, nz, ToIntegers(label)), options.CropInPlane),
            superpixels);
    }

    private static (int, int, int) Dimensions(NiftiImage image)
    {
        var shape = image.Shape;
        // A trailing axis of size 1 (e.g. a 4D file with one time point) holds the same voxels as 3D.
        if (shape.Length < 3 || shape.Skip(3).Any(n => n != 1))
            throw new DataFormatException(image.Source, $"expected a 3D volume, got shape {string.Join("x", shape)}");
        return (shape[0], shape[1], shape[2]);
    }

    private static int[] ToIntegers(NiftiImage labels)
    {
        var values = labels.GetData();
        var result = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i];
            if (v != Math.Floor(v) || v < 0 || v > int.MaxValue)
                throw new DataFormatException(labels.Source, $"label value {v} at voxel {i} is not a non-negative integer");
            result[i] = (int)v;
        }
        return result;
    }

    private static Volume<T> Crop<T>(Volume<T> volume, int? size) where T : unmanaged
    {
        if (size is not { } n || (volume.Width <= n && volume.Height <= n)) return volume;
        int w = Math.Min(n, volume.Width), h = Math.Min(n, volume.Height);
        var data = new T[w * h * volume.Depth];
        for (var z = 0; z < volume.Depth; z++)
            for (var y = 0; y < h; y++)
                volume.Data.AsSpan(volume.Width * (y + volume.Height * z), w).CopyTo(data.AsSpan(w * (y + h * z), w));
        return new Volume<T>(w, h, volume.Depth, data);
    }
}
