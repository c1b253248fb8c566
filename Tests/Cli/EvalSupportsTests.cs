using System.Globalization;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>eval --support-pid</c>, <c>--all-supports</c> (PROTOCOL §6.2, METHODS §7.3) and <c>--threshold</c> on a tiny phantom checkpoint.</summary>
public class EvalSupportsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ilgpuseg-supports").FullName;
    private readonly string _checkpoint;

    public EvalSupportsTests()
    {
        // Six phantoms: CHAOS fold 0 has queries 1-4, support 5 (unseen 1-5) and trains on 6.
        var data = Path.Combine(_root, "data");
        PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        var config = new TrainConfig
        {
            Data = data, Iterations = 6, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, Seed = 5, SupervisedEpisodes = true, LearningRate = 1e-2,
        };
        _checkpoint = Trainer.Run(config, Path.Combine(_root, "ck"), 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null).CheckpointPath;
    }

    public void Dispose() => Directory.Delete(_root, true);

    private (string Out, string Dir) Eval(string name, params string[] options)
    {
        var dir = Path.Combine(_root, name);
        var (exit, output, error) = CommandRunner.Invoke(EvalCommand.Create(), ["eval", "--checkpoint", _checkpoint, "--out", dir, "--threads", "2", .. options]);
        Assert.True(exit == 0, error);
        return (output, dir);
    }

    /// <summary>dice.csv's rows without the header.</summary>
    private static string[] Rows(string dir, string file = "dice.csv") => File.ReadAllLines(Path.Combine(dir, file)).Skip(1).ToArray();

    private static int[] Pids(IEnumerable<string> rows, int column = 0) =>
        rows.Select(r => int.Parse(r.Split(',')[column], CultureInfo.InvariantCulture)).Distinct().Order().ToArray();

    [Fact]
    public void SupportPidMakesAnotherUnseenScanTheSupportAndTheRestTheQueries()
    {
        var (defaultOut, defaultDir) = Eval("default");
        Assert.Contains("support 5, queries 1,2,3,4", defaultOut);
        Assert.Equal([1, 2, 3, 4], Pids(Rows(defaultDir)));
        var (output, dir) = Eval("support2", "--support-pid", "2");
        Assert.Contains("support 2, queries 1,3,4,5", output);
        Assert.Equal([1, 3, 4, 5], Pids(Rows(dir)));
        // The fold's own support given explicitly is the default evaluation.
        Assert.Equal(Rows(defaultDir), Rows(Eval("support5", "--support-pid", "5").Dir));
    }

    [Theory]
    [InlineData("6", "--support-pid 6: not one of fold 0's unseen scans (1,2,3,4,5)")]   // a training scan
    [InlineData("99", "--support-pid 99: not one of fold 0's unseen scans (1,2,3,4,5)")]
    public void AnUnknownSupportPidIsOneLine(string pid, string message)
    {
        var (exit, _, error) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", _checkpoint, "--out", Path.Combine(_root, "bad"), "--support-pid", pid);
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, message);
    }

    [Fact]
    public void AllSupportsScoresEverySupportOnTheOthersAndAgreesWithSupportPid()
    {
        var (output, dir) = Eval("all", "--all-supports");
        var rows = Rows(dir, FoldEvaluation.SupportsCsvName);
        Assert.Equal([1, 2, 3, 4, 5], Pids(rows));
        foreach (var support in new[] { 1, 2, 3, 4, 5 })
        {
            var own = rows.Where(r => r.StartsWith($"{support},", StringComparison.Ordinal)).Select(r => r[(r.IndexOf(',') + 1)..]).ToArray();
            Assert.Equal(Enumerable.Range(1, 5).Where(p => p != support).ToArray(), Pids(own));
            // Each support's rows are what --support-pid writes for it.
            Assert.Equal(Rows(Eval($"one{support}", "--support-pid", support.ToString(CultureInfo.InvariantCulture)).Dir), own);
        }
        // dice.csv is the fold's own support (5), and the rotation's table ends with the mean over the five supports.
        Assert.Equal(Rows(Eval("default").Dir), Rows(dir));
        var means = rows.GroupBy(r => r.Split(',')[0]).Select(g => g.GroupBy(r => r.Split(',')[2])
            .Average(c => c.Average(r => double.Parse(r.Split(',')[4], CultureInfo.InvariantCulture)))).ToArray();
        var table = File.ReadAllText(Path.Combine(dir, FoldEvaluation.SupportsMarkdownName));
        var last = table.TrimEnd('\n').Split('\n')[^1].Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal("mean over 5 supports", last[1]);
        Assert.Equal(100 * means.Average(), double.Parse(last[^2], CultureInfo.InvariantCulture), 0.011);   // dice.csv rounds to 4 digits
        Assert.Contains("support rotation", output);
    }

    [Fact]
    public void AllSupportsRefusesASupportPidOrSavedPredictions()
    {
        foreach (var (extra, message) in new[] { ("--support-pid", "--support-pid and --all-supports"), ("--save-predictions", "--save-predictions and --all-supports") })
        {
            string[] args = extra == "--support-pid" ? ["--all-supports", extra, "2"] : ["--all-supports", extra];
            var (exit, _, error) = CommandRunner.Invoke(EvalCommand.Create(), ["eval", "--checkpoint", _checkpoint, "--out", Path.Combine(_root, "bad"), .. args]);
            Assert.Equal(1, exit);
            CommandRunner.AssertOneLineError(error, message);
        }
    }

    [Fact]
    public void ThresholdMovesTheForegroundCall()
    {
        // Columns: pid,class,rater,dice,precision,recall. A lower threshold calls more pixels foreground: recall cannot fall.
        double[] Recall(string dir) => Rows(dir).Select(r => double.Parse(r.Split(',')[5], CultureInfo.InvariantCulture)).ToArray();
        var everything = Recall(Eval("t-low", "--threshold", "1e-9").Dir);
        Assert.All(everything, r => Assert.Equal(1.0, r));
        var low = Recall(Eval("t-02", "--threshold", "0.2").Dir);
        var high = Recall(Eval("t-08", "--threshold", "0.8").Dir);
        var argmax = Recall(Eval("t-none").Dir);
        for (int i = 0; i < low.Length; i++)
        {
            Assert.True(low[i] >= argmax[i] && argmax[i] >= high[i], $"row {i}: recall at 0.2 {low[i]}, argmax {argmax[i]}, 0.8 {high[i]}");
        }
        Assert.NotEqual(low, high);
        foreach (var bad in new[] { "0", "1.5", "-0.1" })
        {
            var (exit, _, error) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", _checkpoint, "--out", Path.Combine(_root, "bad"), "--threshold", bad);
            Assert.Equal(1, exit);
            CommandRunner.AssertOneLineError(error, "--threshold");
        }
    }
}
