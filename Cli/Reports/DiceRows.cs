namespace IlgpuSeg.Cli.Reports;

/// <summary>One row of an evaluation's dice.csv: a query scan, organ and rater.</summary>
public sealed record DiceRow(int Pid, string Organ, int Rater, double Dice, double Precision, double Recall, int ZMin, int ZMax);

/// <summary>Per organ over scans (each scan's values averaged over raters first, as the evaluation does).</summary>
public sealed record OrganDice(string Organ, int Scans, double MeanDice, double StdDice, double MeanPrecision, double MeanRecall);

public static class DiceRows
{
    private static readonly string[] Header = ["pid", "class", "rater", "dice", "precision", "recall", "z_min", "z_max"];

    /// <summary>Reads dice.csv as <c>eval</c> writes it; anything else is a <see cref="IlgpuSeg.Data.DataFormatException"/> naming the line.</summary>
    public static IReadOnlyList<DiceRow> Read(string path)
    {
        var csv = CsvFile.Read(path, Header);
        return csv.Rows.Select(r => new DiceRow(csv.Integer(r.Line, r.Cells, 0), r.Cells[1], csv.Integer(r.Line, r.Cells, 2), csv.Number(r.Line, r.Cells, 3, 0, 1),
            csv.Number(r.Line, r.Cells, 4, 0, 1), csv.Number(r.Line, r.Cells, 5, 0, 1), csv.Integer(r.Line, r.Cells, 6), csv.Integer(r.Line, r.Cells, 7))).ToArray();
    }

    public static IReadOnlyList<OrganDice> PerOrgan(IReadOnlyList<DiceRow> rows) =>
        rows.GroupBy(r => r.Organ).Select(organ =>
        {
            var scans = organ.GroupBy(r => r.Pid).Select(s => (Dice: s.Average(r => r.Dice), Precision: s.Average(r => r.Precision), Recall: s.Average(r => r.Recall))).ToArray();
            double mean = scans.Average(s => s.Dice);
            return new OrganDice(organ.Key, scans.Length, mean, Math.Sqrt(scans.Average(s => (s.Dice - mean) * (s.Dice - mean))),
                scans.Average(s => s.Precision), scans.Average(s => s.Recall));
        }).ToArray();
}
