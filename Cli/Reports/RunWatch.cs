using System.Diagnostics;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// What a training run keeps up to date in its folder while it runs: run.json (provenance and speed) and curves.png
/// (the training curves of metrics.csv), both written at every checkpoint so a long run can be watched.
/// </summary>
public sealed class RunWatch(TrainConfig config, string runDir, string device, int startIteration, TextWriter log)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly string _commandLine = string.Join(' ', Environment.GetCommandLineArgs().Select(Quote));

    public void Update(int iteration, int skipped)
    {
        var record = new RunRecord
        {
            CommandLine = _commandLine, Commit = RunRecord.BuildCommit(), Seed = config.Seed, Data = config.Data, Head = config.Head,
            Encoder = RunRecord.EncoderOf(config), Device = device, Iteration = iteration, Iterations = config.Iterations,
            SecondsPerIteration = iteration > startIteration ? _clock.Elapsed.TotalSeconds / (iteration - startIteration) : 0,
            Skipped = skipped, UpdatedUtc = DateTime.UtcNow, Config = config,
        };
        AtomicFile.Write(Path.Combine(runDir, RunRecord.FileName), record.ToJson());
        try
        {
            var metrics = MetricsTable.Read(Path.Combine(runDir, Trainer.MetricsName));
            AtomicFile.Write(Path.Combine(runDir, CurvesPlot.FileName), CurvesPlot.Png(metrics, CurvesPlot.StageSwitch(config)));
        }
        catch (IlgpuSeg.Data.DataFormatException e)
        {
            // A plot is not worth a long run: say why it is stale and train on.
            log.WriteLine($"warning: {CurvesPlot.FileName} not updated: {e.Message}");
        }
    }

    private static string Quote(string arg) => arg.Length > 0 && !arg.Any(char.IsWhiteSpace) ? arg : $"'{arg}'";
}
