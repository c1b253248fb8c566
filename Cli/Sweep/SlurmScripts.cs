using System.Globalization;
using System.Text;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>Resources each Slurm array task asks for; null fields are left to the cluster's defaults.</summary>
public sealed record SlurmResources(int CpusPerTask, string Time, string? Memory, string? Partition, string? Gres, string Device);

/// <summary>
/// <c>sweep slurm</c>: one job array per stage (array index = the plan's run index), the arms' array held with
/// <c>--dependency=afterok</c> on the stage-1 array, and submit.sh that submits both and prints their job ids.
/// Each task runs <c>ilgpuseg sweep task STUDY --index $SLURM_ARRAY_TASK_ID</c>, the code <c>sweep run</c> runs locally.
/// </summary>
public static class SlurmScripts
{
    public const string Stage1Script = "stage1.sbatch", ArmsScript = "arms.sbatch", SubmitScript = "submit.sh";

    /// <param name="command">How the cluster's nodes start ilgpuseg (words of a command line).</param>
    public static void Write(Study study, IReadOnlyList<PlannedRun> runs, string outDir, SlurmResources resources, IReadOnlyList<string> command)
    {
        outDir = Path.GetFullPath(outDir);
        var logs = Path.Combine(outDir, "logs");
        Directory.CreateDirectory(logs);
        var stage1 = runs.Where(r => r.IsStage1).Select(r => r.Index).ToArray();
        var arms = runs.Where(r => !r.IsStage1).Select(r => r.Index).ToArray();
        var name = Path.GetFileNameWithoutExtension(study.File);
        if (stage1.Length > 0) AtomicFile.WriteAllText(Path.Combine(outDir, Stage1Script), Array(study, $"{name}-stage1", stage1, logs, resources, command));
        AtomicFile.WriteAllText(Path.Combine(outDir, ArmsScript), Array(study, $"{name}-arms", arms, logs, resources, command));
        // With given starts (stage1.starts) there is no stage-1 array and the arms wait for nothing.
        AtomicFile.WriteAllText(Path.Combine(outDir, SubmitScript), stage1.Length > 0 ? $$"""
            #!/usr/bin/env bash
            # Submits the study {{study.File}}: stage 1 ({{stage1.Length}} tasks), then the arms ({{arms.Length}} tasks) once every stage-1 task succeeded.
            set -euo pipefail
            cd "$(dirname "$0")"
            stage1=$(sbatch --parsable {{Stage1Script}})
            arms=$(sbatch --parsable --dependency=afterok:${stage1%%;*} {{ArmsScript}})
            echo "stage1 ${stage1%%;*} arms ${arms%%;*}"

            """ : $$"""
            #!/usr/bin/env bash
            # Submits the study {{study.File}}: the arms ({{arms.Length}} tasks) from the given starts.
            set -euo pipefail
            cd "$(dirname "$0")"
            arms=$(sbatch --parsable {{ArmsScript}})
            echo "arms ${arms%%;*}"

            """);
        foreach (var script in new[] { Stage1Script, ArmsScript, SubmitScript }.Where(s => File.Exists(Path.Combine(outDir, s))))
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(Path.Combine(outDir, script), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    private static string Array(Study study, string jobName, int[] indices, string logs, SlurmResources resources, IReadOnlyList<string> command)
    {
        var sb = new StringBuilder("#!/usr/bin/env bash\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name={jobName}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --array={indices.Min()}-{indices.Max()}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={resources.CpusPerTask}\n#SBATCH --time={resources.Time}\n");
        if (resources.Memory != null) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --mem={resources.Memory}\n");
        if (resources.Partition != null) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={resources.Partition}\n");
        if (resources.Gres != null) sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --gres={resources.Gres}\n");
        sb.Append(CultureInfo.InvariantCulture, $"#SBATCH --output={logs}/{jobName}-%A_%a.out\n#SBATCH --error={logs}/{jobName}-%A_%a.err\n");
        sb.Append("set -euo pipefail\n");
        sb.Append(string.Join(' ', command.Select(Quote)))
          .Append(CultureInfo.InvariantCulture, $" sweep task {Quote(study.File)} --index \"$SLURM_ARRAY_TASK_ID\" --device {Quote(resources.Device)} --threads \"$SLURM_CPUS_PER_TASK\"\n");
        return sb.ToString();
    }

    /// <summary>A word for bash: single-quoted unless it is plainly safe.</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '+' or ':' or '=') ? word : "'" + word.Replace("'", "'\\''") + "'";
}
