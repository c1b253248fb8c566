namespace IlgpuSeg.Cli.Reports;

/// <summary>One unit of a study arm: that unit's Dice under the arm and under the control, and their difference.</summary>
public sealed record UnitDelta(string Arm, string Unit, string Organ, double DiceArm, double DiceControl, double Delta);

/// <summary>The paired comparison of one arm against the control for one organ (or "mean" over organs).</summary>
public sealed record PairedDelta(string Arm, string Organ, int Units, double MeanDelta, double CiLow, double CiHigh, double PSignFlip, double SigmaD,
    double SmallestDetectableEffect);

/// <summary>Reads the tables <c>ilgpuseg sweep collect</c> writes into a study folder: units.csv and paired.csv.</summary>
public static class StudyTables
{
    public const string UnitsName = "units.csv", PairedName = "paired.csv";

    public static IReadOnlyList<UnitDelta> ReadUnits(string path)
    {
        var csv = CsvFile.Read(path, ["arm", "unit", "organ", "dice_arm", "dice_control", "delta"]);
        return csv.Rows.Select(r => new UnitDelta(r.Cells[0], r.Cells[1], r.Cells[2], csv.Number(r.Line, r.Cells, 3, 0, 1), csv.Number(r.Line, r.Cells, 4, 0, 1),
            csv.Number(r.Line, r.Cells, 5, -1, 1))).ToArray();
    }

    public static IReadOnlyList<PairedDelta> ReadPaired(string path)
    {
        var csv = CsvFile.Read(path, ["arm", "organ", "n_units", "mean_delta", "ci_low", "ci_high", "p_signflip", "sigma_d", "smallest_detectable_effect"]);
        return csv.Rows.Select(r => new PairedDelta(r.Cells[0], r.Cells[1], csv.Integer(r.Line, r.Cells, 2), csv.Number(r.Line, r.Cells, 3, -1, 1),
            csv.Number(r.Line, r.Cells, 4, -1, 1), csv.Number(r.Line, r.Cells, 5, -1, 1), csv.Number(r.Line, r.Cells, 6, 0, 1, missingIsNaN: true),
            csv.Number(r.Line, r.Cells, 7, 0, missingIsNaN: true), csv.Number(r.Line, r.Cells, 8, 0, missingIsNaN: true))).ToArray();
    }
}
