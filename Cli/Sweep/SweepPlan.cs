using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>
/// One training of a study: its index (the Slurm array index), an id that is a function of its configuration, the
/// run it starts from (stage 1, for arms) and its folder (checkpoint, metrics, evaluation, status).
/// </summary>
public sealed record PlannedRun(int Index, string Id, string? Arm, int Fold, int LabelSet, ulong Seed, TrainConfig Config, string? DependsOn, string Folder)
{
    public bool IsStage1 => Arm == null;

    /// <summary>The unit of replication (METHODS §7.4): fold, label split and seed.</summary>
    public string Unit => $"f{Fold}-s{LabelSet}-seed{Seed.ToString(CultureInfo.InvariantCulture)}";

    public string CheckpointPath => Path.Combine(Folder, Trainer.CheckpointName);

    public string DicePath => Path.Combine(Folder, "dice.csv");

    /// <summary>The support rotation's per-scan rows (study evaluation <c>all_supports</c>).</summary>
    public string SupportsDicePath => Path.Combine(Folder, FoldEvaluation.SupportsCsvName);

    /// <summary>Where the evaluation's rows go: against the ground truth, or per simulated rater (study evaluation <c>simulated_raters</c>).</summary>
    public string EvaluationPath(bool allSupports, bool raters) =>
        (allSupports ? SupportsDicePath : DicePath) is var path && raters ? Path.ChangeExtension(path, null) + "_raters.csv" : path;
}

/// <summary>The runs of a study in a fixed order: every stage-1 run (fold, split), then every arm run (fold, split, seed, arm).</summary>
public static class SweepPlan
{
    public static IReadOnlyList<PlannedRun> Create(Study study)
    {
        var runs = new List<PlannedRun>();
        // Per (fold, split): the start's checkpoint, what identifies it in run ids, and the stage-1 run to wait for (none for a given start).
        var starts = new Dictionary<(int, int), (string Checkpoint, string Key, string? DependsOn)>();
        foreach (var fold in study.Folds)
        foreach (var split in study.Splits)
        {
            int labelSet = study.LabelSetOf(split);
            if (study.GivenStart(fold, split) is { } given)
            {
                starts[(fold, labelSet)] = (given.Checkpoint, "start-sha256:" + given.Sha256, null);
                continue;
            }
            var config = study.Config(study.Stage1.Head, study.Stage1.Options, fold, labelSet, study.Stage1.Seed, study.Stage1.Iterations, init: null);
            var id = $"stage1-f{fold}-s{labelSet}-{Hash(config, null, study)}";
            var run = Add(null, fold, labelSet, study.Stage1.Seed, config, id, null);
            starts[(fold, labelSet)] = (run.CheckpointPath, run.Id, run.Id);
        }
        foreach (var fold in study.Folds)
        foreach (var labelSet in study.Splits.Select(study.LabelSetOf))
        foreach (var seed in study.Seeds)
        foreach (var arm in study.Arms)
        {
            var start = starts[(fold, labelSet)];
            var config = study.Config(arm.Head, arm.Options, fold, labelSet, seed, study.Iterations, start.Checkpoint);
            var id = $"{arm.Name}-f{fold}-s{labelSet}-seed{seed.ToString(CultureInfo.InvariantCulture)}-{Hash(config, start.Key, study)}";
            Add(arm.Name, fold, labelSet, seed, config, id, start.DependsOn);
        }
        return runs;

        PlannedRun Add(string? arm, int fold, int labelSet, ulong seed, TrainConfig config, string id, string? dependsOn)
        {
            var run = new PlannedRun(runs.Count, id, arm, fold, labelSet, seed, config, dependsOn, Path.Combine(study.OutDir, id));
            runs.Add(run);
            return run;
        }
    }

    /// <summary>Eight hex digits of SHA-256 over what decides a run's result: its config (paths left out), its start and its evaluation.</summary>
    private static string Hash(TrainConfig config, string? startId, Study study)
    {
        var key = (config with { Data = "", Superpixels = null, Init = startId }).ToJson() + $"|simulated_raters={study.Evaluation.SimulatedRaters}"
            + (study.Evaluation.AllSupports ? "|all_supports" : "");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..8];
    }

    /// <summary>The plan as a table: index, id, stage, the run it waits for, folder.</summary>
    public static string Describe(IReadOnlyList<PlannedRun> runs)
    {
        var sb = new StringBuilder("| index | run | stage | depends on | folder |\n|---:|---|---|---|---|\n");
        foreach (var r in runs)
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Index} | {r.Id} | {(r.IsStage1 ? "stage 1" : "arm " + r.Arm)} | {r.DependsOn ?? "-"} | {r.Folder} |\n");
        return sb.ToString();
    }
}
