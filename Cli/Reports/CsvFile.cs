using System.Globalization;
using IlgpuSeg.Data;

namespace IlgpuSeg.Cli.Reports;

/// <summary>A small CSV file with a fixed header and no quoting (as this project writes them); errors name the file and line.</summary>
public sealed class CsvFile
{
    private CsvFile(string path, string[] header, IReadOnlyList<(int Line, string[] Cells)> rows) => (Path, Header, Rows) = (path, header, rows);

    public string Path { get; }
    public string[] Header { get; }
    public IReadOnlyList<(int Line, string[] Cells)> Rows { get; }

    public static CsvFile Read(string path, string[] header)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !lines[0].Trim().Split(',').SequenceEqual(header))
            throw new DataFormatException(path, $"header is not '{string.Join(",", header)}'");
        var rows = new List<(int, string[])>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var cells = lines[i].Trim().Split(',');
            if (cells.Length != header.Length) throw new DataFormatException(path, $"line {i + 1}: {cells.Length} cells, the header has {header.Length}");
            rows.Add((i + 1, cells));
        }
        if (rows.Count == 0) throw new DataFormatException(path, "no rows");
        return new CsvFile(path, header, rows);
    }

    /// <summary>A number in [min, max]; with <paramref name="missingIsNaN"/> an empty or "nan" cell (undefined, e.g. a spread of one unit) is NaN.</summary>
    public double Number(int line, string[] cells, int column, double min = double.NegativeInfinity, double max = double.PositiveInfinity, bool missingIsNaN = false) =>
        missingIsNaN && (cells[column].Length == 0 || cells[column].Equals("nan", StringComparison.OrdinalIgnoreCase)) ? double.NaN
        : double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && !double.IsNaN(v) && v >= min && v <= max ? v
            : throw new DataFormatException(Path, $"line {line}: '{cells[column]}' in column {Header[column]} is not a number{(double.IsFinite(min) ? $" in [{min}, {max}]" : "")}");

    public int Integer(int line, string[] cells, int column) =>
        int.TryParse(cells[column], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new DataFormatException(Path, $"line {line}: '{cells[column]}' in column {Header[column]} is not an integer");
}
