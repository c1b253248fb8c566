using System.CommandLine;
using System.Globalization;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Preprocessing;
using Spectre.Console;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg prepare --input &lt;dir&gt; --out &lt;dir&gt; --modality mr|ct</c>: raw image/label pairs to the
/// SSL-ALPNet layout (PROTOCOL §5): image_&lt;pid&gt;.nii.gz, label_&lt;pid&gt;.nii.gz, classmap_1.json and the
/// dataset descriptor dataset.json.
/// </summary>
public static class PrepareCommand
{
    public static Command Create()
    {
        var input = new Option<string?>("--input") { Description = "Folder of raw image_<pid>.nii.gz / label_<pid>.nii.gz pairs" };
        var image = new Option<string?>("--image") { Description = "One raw image (with --label and --pid) instead of --input" };
        var label = new Option<string?>("--label") { Description = "The label map of --image" };
        var pid = new Option<int?>("--pid") { Description = "Patient id to write --image/--label under" };
        var output = new Option<string>("--out") { Description = "Folder to write into (created if missing)", Required = true };
        var modality = new Option<Modality>("--modality") { Description = "mr: CHAOS T2 steps; ct: SABS steps", Required = true };
        var spacing = new Option<string?>("--spacing") { Description = "Output spacing x,y,z in mm (mr default 1.25,1.25,7.7; ct default: in-plane x (cropped width / size), z kept)" };
        var size = new Option<int>("--size") { Description = "mr: in-plane crop/pad size; ct: the size the default spacing aims at", DefaultValueFactory = _ => 256 };
        var border = new Option<int>("--border") { Description = "ct: pixels cropped from each in-plane border", DefaultValueFactory = _ => 32 };
        var labelMap = new Option<string?>("--label-map") { Description = "Keep and renumber label ids, e.g. 5:1,2:2,3:3,1:4 (TotalSegmentator to CHAOS); others become 0" };
        var labels = new Option<string?>("--labels") { Description = "Class-map names of label values 0,1,2,... (default: CHAOS BG,LIVER,RK,LK,SPLEEN for mr or with --label-map; SABS names for ct)" };
        var command = new Command("prepare", "Preprocess raw volumes into the SSL-ALPNet dataset layout (clip/window, resample, crop, classmap_1.json)")
        {
            input, image, label, pid, output, modality, spacing, size, border, labelMap, labels,
        };
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var pairs = FindPairs(parse.GetValue(input), parse.GetValue(image), parse.GetValue(label), parse.GetValue(pid));
                var map = parse.GetValue(labelMap) is { } m ? LabelMapping.Parse(m) : null;
                var mod = parse.GetValue(modality);
                var options = (mod == Modality.Mr ? PreprocessOptions.Mr : PreprocessOptions.Ct) with
                {
                    Spacing = parse.GetValue(spacing) is { } s ? ParseSpacing(s) : mod == Modality.Mr ? PreprocessOptions.Mr.Spacing : null,
                    Size = parse.GetValue(size),
                    Border = parse.GetValue(border),
                    LabelMap = map,
                };
                var names = parse.GetValue(labels) is { } n
                    ? n.Split(',', StringSplitOptions.TrimEntries)
                    : (mod == Modality.Mr || map != null ? DatasetInfo.Chaos : DatasetInfo.Sabs).LabelNames.ToArray();
                return Run(pairs, parse.GetValue(output)!, options, names, parse.InvocationConfiguration.Output, error);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or DataFormatException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    public sealed record Pair(int Pid, string ImagePath, string LabelPath);

    /// <summary>Returns 0 when every scan and the class map were written; otherwise one error line and 1.</summary>
    public static int Run(IReadOnlyList<Pair> pairs, string outDir, PreprocessOptions options, IReadOnlyList<string> labelNames, TextWriter output, TextWriter error)
    {
        try
        {
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot create output folder {outDir}: {e.Message}");
            return 1;
        }
        var console = ConsoleFor(output);
        string? failure = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"scans 0/{pairs.Count}", maxValue: pairs.Count);
                foreach (var pair in pairs)
                {
                    try
                    {
                        var (image, label) = (Nifti.Read(pair.ImagePath), Nifti.Read(pair.LabelPath));
                        var scan = Preprocessor.Prepare(image, label, options);
                        CheckNames(scan.Labels, labelNames, pair.LabelPath);
                        Preprocessor.Write(outDir, pair.Pid, scan);
                        var s = scan.Image.Shape;
                        console.MarkupLine(Markup.Escape($"pid {pair.Pid,3}: {string.Join("x", image.Shape)} -> {s[0]}x{s[1]}x{s[2]} at {string.Join("x", scan.Image.Spacing.Take(3).Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)))} mm"));
                    }
                    catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
                    {
                        failure = e is DataFormatException ? e.Message : $"{pair.ImagePath}: {e.Message}";
                        return; // the run has failed; the class map is not rewritten
                    }
                    task.Increment(1);
                    task.Description = $"scans {task.Value}/{pairs.Count}";
                }
            });
        if (failure != null)
        {
            error.WriteLine($"error: {failure}");
            return 1;
        }
        try
        {
            var path = WriteClassMap(outDir, labelNames);
            var dataset = WriteDescriptor(outDir, options.Modality, labelNames);
            console.MarkupLine(Markup.Escape($"{pairs.Count} scans -> {outDir} ({Path.GetFileName(path)} over every label file there)"));
            console.MarkupLine(Markup.Escape($"{DatasetDescriptor.FileName}: {dataset.Name} ({options.Modality.ToString().ToLowerInvariant()}), "
                + $"evaluated {string.Join(",", dataset.EvaluatedClasses.Select(dataset.NameOf))}, {dataset.QueriesPerFold} queries per fold"));
            return 0;
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>Either every image_&lt;pid&gt; in a folder with its label_&lt;pid&gt;, or the single pair given.</summary>
    public static IReadOnlyList<Pair> FindPairs(string? input, string? image, string? label, int? pid)
    {
        if (input != null)
        {
            if (image != null || label != null || pid != null)
                throw new ArgumentException("give either --input or --image/--label/--pid, not both");
            return PatientIds.InFolder(input).Select(p =>
            {
                var imagePath = Path.Combine(input, $"image_{p}.nii.gz");
                var labelPath = Path.Combine(input, $"label_{p}.nii.gz");
                if (!File.Exists(labelPath))
                    throw new DataFormatException(labelPath, $"label file not found for image {imagePath}");
                return new Pair(p, imagePath, labelPath);
            }).ToArray();
        }
        if (image == null || label == null || pid == null)
            throw new ArgumentException("give --input <dir>, or all of --image, --label and --pid");
        if (!File.Exists(image)) throw new DataFormatException(image, "image file not found");
        if (!File.Exists(label)) throw new DataFormatException(label, $"label file not found for image {image}");
        if (pid < 0) throw new ArgumentException("--pid must not be negative");
        return [new Pair(pid.Value, image, label)];
    }

    private static double[] ParseSpacing(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !(values[i] > 0))
                throw new FormatException($"--spacing '{text}' is not three positive numbers x,y,z");
        if (values.Length != 3) throw new FormatException($"--spacing '{text}' is not three positive numbers x,y,z");
        return values;
    }

    // ClassMapWriter only looks at the named values, so an unnamed one would silently vanish from the class map.
    private static void CheckNames(Volume<int> labels, IReadOnlyList<string> names, string labelPath)
    {
        var max = labels.Data.Max();
        if (max >= names.Count)
            throw new DataFormatException(labelPath, $"label value {max} has no class name ({names.Count} names given); pass --labels or --label-map");
    }

    /// <summary>
    /// The class map covers every label_&lt;pid&gt;.nii.gz in the folder, so scans prepared one at a time
    /// (--image/--pid) end up in one map. Written to a temporary name and renamed, like the volumes.
    /// </summary>
    private static string WriteClassMap(string outDir, IReadOnlyList<string> names)
    {
        var scans = PatientIds.InFolder(outDir).Select(p =>
        {
            var label = Nifti.Read(Path.Combine(outDir, $"label_{p}.nii.gz"));
            var s = label.Shape;
            return (p, new Volume<int>(s[0], s[1], s[2], Array.ConvertAll(label.GetData(), v => (int)v)));
        }).ToArray();
        var temp = Directory.CreateDirectory(Path.Combine(outDir, $".classmap.{Guid.NewGuid():N}.partial"));
        try
        {
            var written = ClassMapWriter.Write(temp.FullName, names, scans);
            var final = Path.Combine(outDir, Path.GetFileName(written));
            File.Move(written, final, overwrite: true);
            return final;
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The descriptor of every scan in the folder (<see cref="DatasetDescriptor.ForPrepared"/>). An existing one with the
    /// same labels keeps its name, modality, evaluated classes and label groups (a user may have edited them); only
    /// its queries per fold follow the new scan count.
    /// </summary>
    private static DatasetInfo WriteDescriptor(string outDir, Modality modality, IReadOnlyList<string> names)
    {
        var existingPath = Path.Combine(outDir, DatasetDescriptor.FileName);
        var existing = File.Exists(existingPath) ? DatasetDescriptor.Read(existingPath) : null;
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDir)));
        var dataset = DatasetDescriptor.ForPrepared(name, modality, names, PatientIds.InFolder(outDir).Length);
        if (existing != null && existing.LabelNames.SequenceEqual(names)) dataset = existing with { QueriesPerFold = dataset.QueriesPerFold };
        DatasetDescriptor.Write(outDir, dataset);
        return dataset;
    }

    private static IAnsiConsole ConsoleFor(TextWriter output) =>
        ReferenceEquals(output, Console.Out)
            ? AnsiConsole.Console
            : AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
}
