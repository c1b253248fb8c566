using System.Globalization;
using IlgpuSeg.Data;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// The columns of a run's metrics.csv (iteration, loss terms, learning rate); skipped iterations have no loss and
/// are kept as NaN so plots leave a gap, and their notes are kept. A row that does not parse is a <see cref="DataFormatException"/> naming its line.
/// </summary>
public sealed record MetricsTable(double[] Iteration, IReadOnlyDictionary<string, double[]> Losses, double[] LearningRate, IReadOnlyList<string> SkipNotes)
{
    /// <summary>The loss columns, in the order they are plotted, with the names the report shows.</summary>
    public static readonly (string Column, string Name)[] LossColumns =
        [("loss", "total"), ("query_loss", "L_query"), ("align_loss", "L_align"), ("diff_loss", "L_diff"), ("calib_loss", "L_calib")];

    public static MetricsTable Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) throw new DataFormatException(path, "empty file (no header)");
        var header = lines[0].Split(',');
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i
            : throw new DataFormatException(path, $"no '{name}' column in the header");
        int iteration = Column("iteration"), lr = Column("lr");
        var lossIndex = LossColumns.Select(c => Column(c.Column)).ToArray();
        var rows = lines.Skip(1).ToArray();
        var iterations = new double[rows.Length];
        var rates = new double[rows.Length];
        var losses = LossColumns.Select(_ => new double[rows.Length]).ToArray();
        var notes = new List<string>();
        int note = Array.IndexOf(header, "note");
        for (int r = 0; r < rows.Length; r++)
        {
            // The note column is last and may hold commas; the numeric columns come before it.
            var cells = rows[r].Split(',');
            double Cell(int i, bool emptyIsNaN)
            {
                if (i < cells.Length && cells[i].Length == 0 && emptyIsNaN) return double.NaN;
                if (i < cells.Length && double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
                throw new DataFormatException(path, $"line {r + 2}: '{(i < cells.Length ? cells[i] : "")}' in column {header[i]} is not a number");
            }
            iterations[r] = Cell(iteration, emptyIsNaN: false);
            rates[r] = Cell(lr, emptyIsNaN: false);
            for (int c = 0; c < lossIndex.Length; c++) losses[c][r] = Cell(lossIndex[c], emptyIsNaN: true);
            if (double.IsNaN(losses[0][r]))
                notes.Add($"iteration {iterations[r]}: " + (note >= 0 && note < cells.Length ? string.Join(",", cells[note..]) : "skipped"));
        }
        return new MetricsTable(iterations, LossColumns.Select((c, i) => (c.Name, losses[i])).ToDictionary(p => p.Name, p => p.Item2), rates, notes);
    }

    /// <summary>Loss terms that the run used (some value not zero or missing): DPL adds L_diff, JAPC L_calib.</summary>
    public IEnumerable<(string Name, double[] Values)> UsedLosses() =>
        LossColumns.Select(c => (c.Name, Losses[c.Name])).Where(l => l.Item2.Any(v => !double.IsNaN(v) && v != 0));
}
