using System.Text.Json;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>One run's line in the manifest.</summary>
public sealed record ManifestEntry(int Index, string Id, string Stage, string Unit, string State, DateTime? Started, DateTime? Finished, double? Seconds,
    string? Error, double? MeanDice);

/// <summary>
/// manifest.json in the study's output folder: every planned run with its state (pending, running, done, failed,
/// blocked, interrupted), times, error and organ-mean Dice. Built from the runs' own status files, so it is the same
/// whether the runs ran here or on a cluster; written atomically.
/// </summary>
public static class SweepManifest
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <param name="states">States the caller knows better than the status files (a local runner's blocked or interrupted runs).</param>
    public static IReadOnlyList<ManifestEntry> Write(Study study, IReadOnlyList<PlannedRun> runs, IReadOnlyDictionary<string, (string State, string? Error)>? states = null)
    {
        var entries = runs.Select(run =>
        {
            var status = RunStatus.Read(run.Folder);
            var entry = new ManifestEntry(run.Index, run.Id, run.IsStage1 ? "stage1" : run.Arm!, run.Unit, status?.State ?? "pending", status?.Started,
                status?.Finished, status?.Seconds, status?.Error, status?.MeanDice);
            return states != null && states.TryGetValue(run.Id, out var known) ? entry with { State = known.State, Error = known.Error ?? entry.Error } : entry;
        }).ToList();
        Directory.CreateDirectory(study.OutDir);
        AtomicFile.WriteAllText(Path.Combine(study.OutDir, FileName),
            JsonSerializer.Serialize(new { study = study.File, updated = DateTime.UtcNow, runs = entries }, Options));
        return entries;
    }
}
