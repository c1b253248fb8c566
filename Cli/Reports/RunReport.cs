using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// The HTML report of one training run folder: provenance (run.json), configuration, training curves (metrics.csv),
/// the Dice tables of its evaluation (eval/dice.csv) and the overlays the evaluation wrote. Each missing or malformed
/// input becomes a line in the report's problem list; the rest of the report is still built.
/// </summary>
public static partial class RunReport
{
    public static HtmlPage Build(string runDir)
    {
        var page = new HtmlPage($"Run report: {Path.GetFileName(Path.GetFullPath(runDir).TrimEnd('/'))}");
        page.Paragraph($"Folder: {Path.GetFullPath(runDir)}");
        var record = ReportInput.Read(page, Path.Combine(runDir, RunRecord.FileName), RunRecord.Read,
            "this run predates provenance recording, so its command line, commit, time per iteration and skipped-episode count are unknown");
        var checkpoint = ReportInput.Read(page, Path.Combine(runDir, Trainer.CheckpointName), Checkpoint.Load, "no trained weights to describe");
        var config = record?.Config ?? checkpoint?.Config;
        Provenance(page, record, checkpoint, config);
        var metrics = ReportInput.Read(page, Path.Combine(runDir, Trainer.MetricsName), MetricsTable.Read, "no training curves");
        Curves(page, metrics, config);
        var evalDir = Directory.Exists(Path.Combine(runDir, "eval")) ? Path.Combine(runDir, "eval") : runDir;
        var dice = ReportInput.Read(page, Path.Combine(evalDir, "dice.csv"), DiceRows.Read, "no Dice table (run `ilgpuseg eval --out <run>/eval` first)");
        if (dice != null) DiceTables(page, dice);
        Overlays(page, evalDir);
        return page;
    }

    private static void Provenance(HtmlPage page, RunRecord? record, Checkpoint? checkpoint, TrainConfig? config)
    {
        page.Heading("Configuration and provenance");
        string Unknown(string? v) => string.IsNullOrEmpty(v) ? "unknown" : v;
        IReadOnlyList<string>[] rows =
        [
            ["command line", Unknown(record?.CommandLine)],
            ["commit", Unknown(record?.Commit)],
            ["seed", config == null ? "unknown" : config.Seed.ToString(CultureInfo.InvariantCulture)],
            ["data folder", Unknown(config?.Data)],
            ["head", Unknown(config?.Head)],
            ["encoder", config == null ? "unknown" : RunRecord.EncoderOf(config)],
            ["device", Unknown(record?.Device)],
            ["iterations done", record != null ? $"{record.Iteration} of {record.Iterations}" : checkpoint != null ? $"{checkpoint.Iteration} of {checkpoint.Config.Iterations} (checkpoint)" : "unknown"],
            ["time per iteration", record is { SecondsPerIteration: > 0 } ? $"{record.SecondsPerIteration:F3} s" : "unknown"],
            ["skipped episodes", record != null ? record.Skipped.ToString(CultureInfo.InvariantCulture) : checkpoint != null ? $"{checkpoint.Skipped} (checkpoint)" : "unknown"],
            ["last updated", record != null ? record.UpdatedUtc.ToString("u", CultureInfo.InvariantCulture) : "unknown"],
        ];
        page.Table("provenance", ["field", "value"], rows);
        if (config == null) return;
        using var json = JsonDocument.Parse(config.ToJson());
        page.Heading("Training configuration", 3);
        page.Table("config", ["setting", "value"], json.RootElement.EnumerateObject().Select(p => (IReadOnlyList<string>)[p.Name, p.Value.ToString()]));
    }

    private static void Curves(HtmlPage page, MetricsTable? metrics, TrainConfig? config)
    {
        page.Heading("Training curves");
        if (metrics == null || metrics.Iteration.Length == 0)
        {
            page.Paragraph("No training iterations recorded.");
            return;
        }
        page.Image("curves", CurvesPlot.Png(metrics, config == null ? null : CurvesPlot.StageSwitch(config)),
            $"{metrics.Iteration.Length} iterations; smoothed (solid) over raw (faint) loss terms; learning rate dashed on the right axis");
        if (metrics.SkipNotes.Count > 0)
        {
            page.Heading($"Skipped episodes ({metrics.SkipNotes.Count})", 3);
            page.Table("skipped", ["note"], metrics.SkipNotes.Take(5).Select(n => (IReadOnlyList<string>)[n]));
            if (metrics.SkipNotes.Count > 5) page.Paragraph($"… and {metrics.SkipNotes.Count - 5} more (the note column of {Trainer.MetricsName}).");
        }
    }

    private static void DiceTables(HtmlPage page, IReadOnlyList<DiceRow> rows)
    {
        var organs = DiceRows.PerOrgan(rows);
        int raters = rows.Max(r => r.Rater) + 1;
        page.Heading("Dice per organ");
        page.Table("dice-organs", ["organ", "scans", "Dice (mean ± std over scans, %)", "precision (%)", "recall (%)"],
            organs.Select(o => (IReadOnlyList<string>)[o.Organ, o.Scans.ToString(CultureInfo.InvariantCulture), Percent(o.MeanDice) + " ± " + Percent(o.StdDice),
                Percent(o.MeanPrecision), Percent(o.MeanRecall)]));
        page.Paragraph($"Mean Dice over organs: {Percent(organs.Average(o => o.MeanDice))} %" + (raters > 1 ? $" ({raters} simulated raters, averaged per scan)" : ""));
        if (raters > 1)
        {
            page.Heading("Dice per simulated rater (mean over scans, %)", 3);
            page.Table("dice-raters", ["organ", .. Enumerable.Range(1, raters).Select(r => $"rater {r}")],
                organs.Select(o => (IReadOnlyList<string>)[o.Organ, .. Enumerable.Range(0, raters).Select(r =>
                    Percent(rows.Where(x => x.Organ == o.Organ && x.Rater == r).Select(x => x.Dice).DefaultIfEmpty(double.NaN).Average()))]));
        }
        page.Heading("Dice per scan", 3);
        page.Table("dice-scans", ["scan", "organ", "rater", "Dice (%)", "precision (%)", "recall (%)", "scored slices"],
            rows.OrderBy(r => r.Organ, StringComparer.Ordinal).ThenBy(r => r.Pid).ThenBy(r => r.Rater).Select(r => (IReadOnlyList<string>)[
                r.Pid.ToString(CultureInfo.InvariantCulture), r.Organ, (r.Rater + 1).ToString(CultureInfo.InvariantCulture),
                Percent(r.Dice), Percent(r.Precision), Percent(r.Recall), $"z {r.ZMin}–{r.ZMax}"]));
    }

    [GeneratedRegex(@"^(support|query|uncertainty|raters)_(\d+)_([A-Za-z0-9]+)_z(\d+)\.png$")]
    private static partial Regex OverlayName();

    private static readonly string[] Kinds = ["support", "query", "uncertainty", "raters"];

    private static void Overlays(HtmlPage page, string evalDir)
    {
        if (!Directory.Exists(evalDir)) return;
        var files = Directory.GetFiles(evalDir, "*.png").Select(f => (Path: f, Match: OverlayName().Match(Path.GetFileName(f)))).Where(f => f.Match.Success)
            .OrderBy(f => f.Match.Groups[1].Value != "support").ThenBy(f => int.Parse(f.Match.Groups[2].Value, CultureInfo.InvariantCulture))
            .ThenBy(f => Array.IndexOf(Kinds, f.Match.Groups[1].Value)).ToArray();
        page.Heading("Overlays");
        if (files.Length == 0)
        {
            page.Problem($"no overlay PNGs in {evalDir}: no overlays shown.");
            return;
        }
        page.Paragraph("Support slice (its mask in green) first, then per query scan: prediction in red, ground-truth contour green "
            + "(overlays from evaluations before reports existed fill the prediction instead of outlining it). "
            + "DPL: per-pixel variance of the foreground probability over its prototype variants. JAPC: one panel per simulated rater (dilated, eroded, shifted).");
        int n = 0;
        foreach (var organ in files.GroupBy(f => f.Match.Groups[3].Value).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            page.Heading(organ.Key, 3);
            foreach (var (path, match) in organ)
            {
                var bytes = File.ReadAllBytes(path);
                if (!bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
                {
                    page.Problem($"{Path.GetFileName(path)} is not a PNG: left out.");
                    continue;
                }
                var kind = match.Groups[1].Value;
                page.Image($"overlay-{n++}", bytes, $"{kind} scan {match.Groups[2].Value}, slice z{match.Groups[4].Value}", kind == "uncertainty" ? 300 : null);
            }
        }
    }

    private static string Percent(double v) => (100 * v).ToString("F2", CultureInfo.InvariantCulture);
}
