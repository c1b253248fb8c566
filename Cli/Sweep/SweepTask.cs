using System.Diagnostics;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>
/// One run of a study, as <c>sweep task STUDY --index I</c> runs it (locally as a child of <c>sweep run</c>, on a
/// cluster as a Slurm array task): skip it if done, else train (resuming from its checkpoint when one is there, bit for
/// bit as <c>train --resume</c>), evaluate an arm on its fold, and record the outcome in the run's status.json.
/// </summary>
public static class SweepTask
{
    public static void Run(Study study, PlannedRun run, string device, int threads, TextWriter log, TextWriter progress)
    {
        if (RunStatus.Read(run.Folder)?.State == RunStatus.Done)
        {
            log.WriteLine($"{run.Id}: already done");
            return;
        }
        if (run.DependsOn != null && RunStatus.Read(Path.Combine(study.OutDir, run.DependsOn))?.State != RunStatus.Done)
            throw new InvalidOperationException($"{run.Id}: starts from {run.DependsOn}, which has not finished");
        Directory.CreateDirectory(run.Folder);
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        new RunStatus(RunStatus.Running, started, null, null, null, null, Environment.MachineName).Write(run.Folder);
        try
        {
            var acc = Accelerators.Select(device, threads);
            var resume = File.Exists(run.CheckpointPath) ? run.CheckpointPath : null;
            Trainer.Run(run.Config, run.Folder, study.CheckpointEvery, resume, acc, log, progress);
            double? meanDice = null;
            if (!run.IsStage1)
            {
                var checkpoint = Checkpoint.Load(run.CheckpointPath);
                var runner = Trainer.LoadRunner(checkpoint, acc);
                foreach (var raters in study.Evaluation.SimulatedRaters ? new[] { false, true } : [false])
                {
                    string scored = raters ? "per simulated rater" : "against the ground truth", path = run.EvaluationPath(study.Evaluation.AllSupports, raters);
                    double mean;
                    if (study.Evaluation.AllSupports)
                    {
                        var (_, _, results) = FoldEvaluation.RunAllSupports(runner, checkpoint.Config, run.Config.Data, run.Fold, acc, raters);
                        AtomicFile.WriteAllText(path, FoldEvaluation.SupportsCsv(results));
                        if (!raters) AtomicFile.WriteAllText(run.DicePath, FoldEvaluation.Csv(results[0].Result));
                        mean = 100 * results.Average(r => r.Result.MeanDice);
                        log.WriteLine($"{run.Id}: organ-mean Dice {mean:F2} {scored} (mean over {results.Count} supports)");
                    }
                    else
                    {
                        var (_, _, result) = FoldEvaluation.Run(runner, checkpoint.Config, run.Config.Data, run.Fold, acc, raters);
                        AtomicFile.WriteAllText(path, FoldEvaluation.Csv(result));
                        mean = 100 * result.MeanDice;
                        log.WriteLine($"{run.Id}: organ-mean Dice {mean:F2} {scored}");
                    }
                    if (!raters) meanDice = mean;
                }
            }
            new RunStatus(RunStatus.Done, started, DateTime.UtcNow, clock.Elapsed.TotalSeconds, null, meanDice, Environment.MachineName).Write(run.Folder);
        }
        catch (Exception e)
        {
            new RunStatus(RunStatus.Failed, started, DateTime.UtcNow, clock.Elapsed.TotalSeconds, e.Message, null, Environment.MachineName).Write(run.Folder);
            throw;
        }
    }
}
