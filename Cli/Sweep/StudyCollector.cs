using System.Globalization;
using System.Text;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Reports;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>
/// <c>sweep collect</c>: every arm run's evaluation (dice_supports.csv when the study rotates the support, else dice.csv) paired with the control's of the same unit, then the
/// paired analysis per arm and organ (and the organ mean). Writes units.csv, paired.csv and paired.md into the study's
/// output folder; Dice is in percent. Units where the arm or the control has no evaluation yet are left out and named.
/// A study that also scores per simulated rater gets the same analysis of those files (units_raters.csv, paired_raters.csv,
/// a second table in paired.md).
/// </summary>
public static class StudyCollector
{
    public const string UnitsName = "units.csv", PairedName = "paired.csv", MarkdownName = "paired.md";
    public const string MeanOrgan = "mean";

    /// <summary>Writes the files and returns the Markdown; <paramref name="log"/> gets the units left out.</summary>
    public static string Run(Study study, IReadOnlyList<PlannedRun> runs, TextWriter log)
    {
        var markdown = new StringBuilder();
        foreach (var raters in study.Evaluation.SimulatedRaters ? new[] { false, true } : [false])
        {
            string suffix = raters ? "_raters" : "";
            var (units, paired, table) = Analyse(study, runs, raters, log);
            if (study.Evaluation.SimulatedRaters)
                markdown.Append(raters ? "\n### Per simulated rater (raters averaged per support–query pair)\n\n" : "### Against the ground truth\n\n");
            markdown.Append(table);
            Directory.CreateDirectory(study.OutDir);
            AtomicFile.WriteAllText(Path.Combine(study.OutDir, Path.ChangeExtension(UnitsName, null) + suffix + ".csv"), units);
            AtomicFile.WriteAllText(Path.Combine(study.OutDir, Path.ChangeExtension(PairedName, null) + suffix + ".csv"), paired);
        }
        markdown.Append(CultureInfo.InvariantCulture, $"\nDice in percent; control: {study.Control}. {PairedAnalysis.Formulas}\n");
        AtomicFile.WriteAllText(Path.Combine(study.OutDir, MarkdownName), markdown.ToString());
        return markdown.ToString();
    }

    /// <summary>units.csv, paired.csv and the Markdown table of one scoring (ground truth or simulated raters).</summary>
    private static (string Units, string Paired, string Markdown) Analyse(Study study, IReadOnlyList<PlannedRun> runs, bool raters, TextWriter log)
    {
        var all = study.Evaluation.AllSupports;
        var dice = runs.Where(r => !r.IsStage1 && File.Exists(r.EvaluationPath(all, raters)))
            .ToDictionary(r => (r.Arm!, r.Unit), r => all ? PerOrganOverSupports(r.EvaluationPath(all, raters)) : PerOrgan(r.EvaluationPath(all, raters)));
        var units = new StringBuilder("arm,unit,organ,dice_arm,dice_control,delta\n");
        var paired = new StringBuilder("arm,organ,n_units,mean_delta,ci_low,ci_high,p_signflip,sigma_d,smallest_detectable_effect\n");
        var markdown = new StringBuilder("| arm | organ | units | mean Δ Dice | 95 % interval | sign-flip p | σ_d | smallest detectable effect |\n|---|---|---:|---:|---|---:|---:|---:|\n");
        var unitIds = runs.Where(r => !r.IsStage1).Select(r => r.Unit).Distinct().ToList();
        foreach (var arm in study.Arms.Select(a => a.Name).Where(a => a != study.Control))
        {
            var deltas = new Dictionary<string, List<double>>();   // organ → d_u in unit order
            foreach (var unit in unitIds)
            {
                if (!dice.TryGetValue((arm, unit), out var a) || !dice.TryGetValue((study.Control, unit), out var c))
                {
                    log.WriteLine($"left out{(raters ? " (simulated raters)" : "")}: unit {unit} of arm {arm} (the arm or the control arm, {study.Control}, has no evaluation yet)");
                    continue;
                }
                foreach (var organ in a.Keys.Where(c.ContainsKey))
                {
                    double delta = a[organ] - c[organ];
                    units.Append(CultureInfo.InvariantCulture, $"{arm},{unit},{organ},{a[organ]:F4},{c[organ]:F4},{delta:F4}\n");
                    (deltas.TryGetValue(organ, out var list) ? list : deltas[organ] = []).Add(delta);
                }
            }
            foreach (var (organ, d) in deltas)
            {
                var r = PairedAnalysis.Analyse(d);
                paired.Append(CultureInfo.InvariantCulture,
                    $"{arm},{organ},{r.Units},{r.MeanDelta:F4},{r.CiLow:F4},{r.CiHigh:F4},{r.PSignFlip:F6},{r.SigmaD:F4},{r.SmallestDetectableEffect:F4}\n");
                markdown.Append(CultureInfo.InvariantCulture,
                    $"| {arm} | {organ} | {r.Units} | {r.MeanDelta:+0.00;-0.00;0.00} | [{r.CiLow:F2}, {r.CiHigh:F2}] | {r.PSignFlip:F4} | {r.SigmaD:F2} | {r.SmallestDetectableEffect:F2} |\n");
            }
        }
        return (units.ToString(), paired.ToString(), markdown.ToString());
    }

    /// <summary>
    /// A support rotation's Dice per organ (dice_supports.csv: mean over every support–query pair, raters averaged per pair) and their
    /// mean, in percent. Every support has the same number of queries, so this is also the mean over supports of each support's mean.
    /// </summary>
    private static Dictionary<string, double> PerOrganOverSupports(string path)
    {
        var csv = CsvFile.Read(path, ["support", "pid", "class", "rater", "dice", "precision", "recall", "z_min", "z_max"]);
        var organs = csv.Rows.GroupBy(r => r.Cells[2])
            .ToDictionary(organ => organ.Key, organ => 100 * organ.GroupBy(r => (r.Cells[0], r.Cells[1])).Average(pair => pair.Average(r => csv.Number(r.Line, r.Cells, 4, 0, 1))));
        if (organs.Count == 0) throw new FormatException($"{path}: has no scores");
        organs[MeanOrgan] = organs.Values.Average();
        return organs;
    }

    /// <summary>A run's Dice per organ (mean over query scans, raters averaged per scan) and their mean, in percent, organs in file order.</summary>
    private static Dictionary<string, double> PerOrgan(string dicePath)
    {
        var perScan = CompareCommand.Read(dicePath);
        var organs = perScan.GroupBy(kv => kv.Key.Class).ToDictionary(g => g.Key, g => 100 * g.Average(kv => kv.Value));
        if (organs.Count == 0) throw new FormatException($"{dicePath}: has no scores");
        organs[MeanOrgan] = organs.Values.Average();
        return organs;
    }
}
