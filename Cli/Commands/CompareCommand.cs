using System.CommandLine;
using System.Globalization;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg compare A.csv B.csv</c>: whether two evaluations (dice.csv from <c>ilgpuseg eval</c>) differ, per
/// class, with paired tests over the scans both contain (Wilcoxon signed-rank and paired t). With several raters
/// a scan's Dice is the mean over its raters (METHODS §4): raters of one scan are not independent samples.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var a = new Argument<string>("a") { Description = "dice.csv of evaluation A" };
        var b = new Argument<string>("b") { Description = "dice.csv of evaluation B" };
        var command = new Command("compare", "Paired tests between two evaluations, per class") { a, b };
        command.SetAction(parse =>
        {
            try
            {
                parse.InvocationConfiguration.Output.Write(Run(parse.GetValue(a)!, parse.GetValue(b)!));
                return 0;
            }
            catch (Exception e) when (e is IOException or FormatException or ArgumentException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    public static string Run(string pathA, string pathB)
    {
        var a = Read(pathA);
        var b = Read(pathB);
        var sb = new System.Text.StringBuilder("| class | scans | mean Dice A | mean Dice B | Wilcoxon W+ | Wilcoxon p | paired t | t-test p |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var cls in a.Keys.Select(k => k.Class).Distinct().Order(StringComparer.Ordinal))
        {
            var keys = a.Keys.Where(k => k.Class == cls && b.ContainsKey(k)).OrderBy(k => k.Pid).ToArray();
            if (keys.Length == 0) throw new ArgumentException($"{pathB}: has no rows for class {cls} of {pathA}");
            var da = keys.Select(k => a[k]).ToArray();
            var db = keys.Select(k => b[k]).ToArray();
            var (w, pw) = PairedTests.WilcoxonSignedRank(da, db);
            var (t, pt) = PairedTests.PairedT(da, db);
            sb.Append(CultureInfo.InvariantCulture, $"| {cls} | {keys.Length} | {100 * da.Average():F2} | {100 * db.Average():F2} | {w:F1} | {pw:F4} | {t:F3} | {pt:F4} |\n");
        }
        return sb.ToString();
    }

    /// <summary>dice.csv as the Dice of each (pid, class), averaged over raters.</summary>
    internal static Dictionary<(int Pid, string Class), double> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || !lines[0].StartsWith("pid,class,rater,dice", StringComparison.Ordinal))
            throw new FormatException($"{path}: not a dice.csv from ilgpuseg eval (header 'pid,class,rater,dice,...')");
        var rows = new Dictionary<(int Pid, string Class), List<double>>();
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            try
            {
                var key = (int.Parse(f[0], CultureInfo.InvariantCulture), f[1]);
                _ = int.Parse(f[2], CultureInfo.InvariantCulture);
                double dice = double.Parse(f[3], CultureInfo.InvariantCulture);
                if (!rows.TryGetValue(key, out var raters)) rows[key] = raters = [];
                raters.Add(dice);
            }
            catch (Exception e) when (e is FormatException or IndexOutOfRangeException)
            {
                throw new FormatException($"{path}: line {i + 1} is malformed: '{lines[i]}'");
            }
        }
        return rows.ToDictionary(kv => kv.Key, kv => kv.Value.Average());
    }
}
