using System.CommandLine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Superpixels;
using Spectre.Console;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg pseudolabel --data &lt;dir&gt; --out &lt;dir&gt;</c>: SSL-ALPNet superpixel pseudo-labels for every
/// <c>image_&lt;pid&gt;.nii.gz</c> in a folder, written as <c>superpix-MIDDLE_&lt;pid&gt;.nii.gz</c>.
/// </summary>
public static partial class PseudolabelCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Folder holding image_<pid>.nii.gz (raw intensities, not z-scored)", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to write superpix-MIDDLE_<pid>.nii.gz into (created if missing)", Required = true };
        var threshold = new Option<double?>("--threshold")
        {
            Description = $"Body-mask threshold: pixels above it are body (default: the dataset's modality: {BodyMask.ChaosMriThreshold} for MR, {BodyMask.CtThreshold} for CT windowed to 0-255)",
        };
        var dataset = DatasetOption.Create();
        var threads = new Option<int>("--threads") { Description = "Scans processed at once", DefaultValueFactory = _ => Environment.ProcessorCount };
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError("--threads must be at least 1");
        });
        var command = new Command("pseudolabel", "Make SSL-ALPNet superpixel pseudo-labels (Felzenszwalb per axial slice, body-masked) for every scan in a folder")
        {
            data, output, threshold, dataset, threads,
        };
        command.SetAction(parse => Run(parse.GetValue(data)!, parse.GetValue(output)!, parse.GetValue(threshold), parse.GetValue(dataset), parse.GetValue(threads),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    private sealed record Scan(int Pid, string ImagePath);

    private sealed record Done(int Pid, int Slices, int MaxLabel, TimeSpan Time);

    /// <summary>
    /// Returns 0 when every scan was written; otherwise writes one line per problem to <paramref name="error"/> and returns 1.
    /// Without a <paramref name="threshold"/> the body mask uses the one of the dataset's modality (PROTOCOL §4.1).
    /// </summary>
    public static int Run(string dataDir, string outDir, double? threshold, string? dataset, int threads, TextWriter output, TextWriter error)
    {
        if (!Directory.Exists(dataDir))
        {
            error.WriteLine($"error: data folder not found: {dataDir}");
            return 1;
        }
        var (scans, problem) = FindScans(dataDir);
        if (problem != null)
        {
            error.WriteLine($"error: {problem}");
            return 1;
        }
        double bodyThreshold;
        try
        {
            bodyThreshold = threshold ?? BodyMask.ThresholdFor(DatasetOption.Resolve(dataset, dataDir, output).Modality);
            Directory.CreateDirectory(outDir);
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine(e is DataFormatException ? $"error: {e.Message}" : $"error: cannot create output folder {outDir}: {e.Message}");
            return 1;
        }

        var console = ConsoleFor(output);
        var done = new List<Done>();
        var failures = new List<(int Pid, string Message)>();
        var total = Stopwatch.StartNew();
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Describe(0, scans.Count, total.Elapsed), maxValue: scans.Count);
                Parallel.ForEach(scans, new ParallelOptions { MaxDegreeOfParallelism = threads }, (scan, loop) =>
                {
                    try
                    {
                        var result = Process(scan, outDir, bodyThreshold);
                        lock (done)
                        {
                            done.Add(result);
                            console.MarkupLine(Markup.Escape(
                                $"pid {result.Pid,3}: {result.Slices} slices, max label {result.MaxLabel}, {result.Time.TotalSeconds:F2} s"));
                            task.Increment(1);
                            task.Description = Describe(done.Count, scans.Count, total.Elapsed);
                        }
                    }
                    catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
                    {
                        lock (done) failures.Add((scan.Pid, e is DataFormatException ? e.Message : $"{scan.ImagePath}: {e.Message}"));
                        loop.Stop(); // no point making the rest: the run has failed
                    }
                });
            });

        if (failures.Count > 0)
        {
            foreach (var (_, message) in failures.OrderBy(f => f.Pid)) error.WriteLine($"error: {message}");
            return 1;
        }
        var table = new Table().AddColumns("pid", "slices", "max label", "seconds");
        foreach (var d in done.OrderBy(d => d.Pid))
            table.AddRow($"{d.Pid}", $"{d.Slices}", $"{d.MaxLabel}", $"{d.Time.TotalSeconds:F2}");
        console.Write(table);
        var cpu = done.Sum(d => d.Time.TotalSeconds);
        console.MarkupLine(Markup.Escape(
            $"{done.Count} scans, {done.Sum(d => d.Slices)} slices in {total.Elapsed.TotalSeconds:F1} s wall ({cpu:F1} s summed over scans, {threads} at once) -> {outDir}"));
        return 0;
    }

    private static string Describe(int finished, int count, TimeSpan elapsed) =>
        finished == 0 ? $"scans 0/{count}" : $"scans {finished}/{count} ({finished / elapsed.TotalMinutes:F1}/min)";

    private static Done Process(Scan scan, string outDir, double threshold)
    {
        var clock = Stopwatch.StartNew();
        var image = Nifti.Read(scan.ImagePath);
        var labels = PseudoLabeller.LabelVolume(image, threshold);
        var finalPath = Path.Combine(outDir, PseudoLabeller.OutputFileName(scan.Pid));
        // Write beside the final file and rename, so an interrupted run never leaves a truncated label file
        // under the name the training loader looks for. The temporary name still ends in .nii.gz (the writer
        // compresses by extension).
        var tempPath = Path.Combine(outDir, $".{Path.GetFileNameWithoutExtension(finalPath)}.{Guid.NewGuid():N}.partial.nii.gz");
        try
        {
            Nifti.Write(tempPath, labels);
            File.Move(tempPath, finalPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(tempPath)) File.Delete(tempPath);
        }
        var max = labels.GetData().Max();
        return new Done(scan.Pid, image.Shape[2], (int)max, clock.Elapsed);
    }

    /// <summary>image_*.nii.gz files, pid = the last integer in the file name (as SSL-ALPNet parses it), sorted by pid.</summary>
    private static (List<Scan> Scans, string? Problem) FindScans(string dataDir)
    {
        var scans = new List<Scan>();
        foreach (var path in Directory.EnumerateFiles(dataDir, "image_*.nii.gz"))
        {
            var numbers = Integer().Matches(Path.GetFileName(path));
            if (numbers.Count == 0) continue; // no pid to name the output by
            if (!int.TryParse(numbers[^1].Value, out var pid)) return (scans, $"{path}: pid {numbers[^1].Value} is too large");
            scans.Add(new Scan(pid, path));
        }
        if (scans.Count == 0) return (scans, $"no image_<pid>.nii.gz files in {dataDir}");
        var clash = scans.GroupBy(s => s.Pid).FirstOrDefault(g => g.Count() > 1);
        if (clash != null)
            return (scans, $"pid {clash.Key} is claimed by more than one file: {string.Join(", ", clash.Select(s => s.ImagePath).Order())}");
        scans.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        return (scans, null);
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

    [GeneratedRegex(@"\d+")]
    private static partial Regex Integer();
}
