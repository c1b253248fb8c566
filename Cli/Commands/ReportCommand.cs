using System.CommandLine;
using IlgpuSeg.Cli.Reports;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg report RUN_OR_STUDY_DIR [--out report.html]</c>: one self-contained HTML file (images embedded, no
/// network) for a training run folder or a study folder (units.csv / paired.csv from <c>sweep collect</c>).
/// </summary>
public static class ReportCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "A training run folder (metrics.csv, run.json, eval/) or a study folder (units.csv, paired.csv)" };
        var output = new Option<string?>("--out") { Description = "The HTML file to write (default: DIR/report.html)" };
        var command = new Command("report", "Write an HTML report of a training run or a study") { dir, output };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(dir)!;
            if (!Directory.Exists(folder))
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {folder}: no such folder");
                return 1;
            }
            var outPath = parse.GetValue(output) ?? Path.Combine(folder, "report.html");
            var page = StudyReport.IsStudy(folder) ? StudyReport.Build(folder) : RunReport.Build(folder);
            try
            {
                AtomicFile.Write(outPath, page.Render());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {outPath}: {e.Message}");
                return 1;
            }
            parse.InvocationConfiguration.Output.WriteLine($"wrote {outPath}"
                + (page.Problems.Count > 0 ? $" ({page.Problems.Count} input(s) missing or unreadable, listed at its top)" : ""));
            return 0;
        });
        return command;
    }
}
