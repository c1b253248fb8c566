using System.Globalization;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// The HTML report of a study folder (what <c>ilgpuseg sweep collect</c> writes): each arm's paired differences to the
/// control per organ with their intervals, and a strip plot of the per-unit differences.
/// </summary>
public static class StudyReport
{
    /// <summary>A study folder holds the tables of <c>sweep collect</c>.</summary>
    public static bool IsStudy(string dir) =>
        File.Exists(Path.Combine(dir, StudyTables.UnitsName)) || File.Exists(Path.Combine(dir, StudyTables.PairedName));

    public static HtmlPage Build(string studyDir)
    {
        var page = new HtmlPage($"Study report: {Path.GetFileName(Path.GetFullPath(studyDir).TrimEnd('/'))}");
        page.Paragraph($"Folder: {Path.GetFullPath(studyDir)}");
        var units = ReportInput.Read(page, Path.Combine(studyDir, StudyTables.UnitsName), StudyTables.ReadUnits, "no per-unit plot");
        var paired = ReportInput.Read(page, Path.Combine(studyDir, StudyTables.PairedName), StudyTables.ReadPaired, "no table of paired differences");
        page.Heading("Paired differences to the control");
        if (paired != null)
            page.Table("paired", ["arm", "organ", "units", "mean Δ Dice (points)", "interval (points)", "p (sign flip)", "σ_d (points)", "smallest detectable effect (points)"],
                paired.Select(p => (IReadOnlyList<string>)[p.Arm, p.Organ, p.Units.ToString(CultureInfo.InvariantCulture), Points(p.MeanDelta),
                    $"[{Points(p.CiLow)}, {Points(p.CiHigh)}]", p.PSignFlip.ToString("F4", CultureInfo.InvariantCulture), Points(p.SigmaD), Points(p.SmallestDetectableEffect)]));
        if (units != null || paired != null)
        {
            page.Heading("Per-unit differences");
            page.Image("strip", StudyPlot.Png(units ?? [], paired ?? []), "each dot is one unit's Dice difference to the control; black: paired mean and interval");
        }
        if (units != null)
        {
            page.Heading("Units", 3);
            page.Table("units", ["arm", "unit", "organ", "Dice arm (%)", "Dice control (%)", "Δ (points)"],
                units.Select(u => (IReadOnlyList<string>)[u.Arm, u.Unit, u.Organ, Points(u.DiceArm), Points(u.DiceControl), Points(u.Delta)]));
        }
        return page;
    }

    private static string Points(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("F2", CultureInfo.InvariantCulture);
}
