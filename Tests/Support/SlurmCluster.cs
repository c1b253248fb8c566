using System.Diagnostics;

namespace IlgpuSeg.Tests.Support;

/// <summary>The Slurm that tools/slurm_local.sh starts: whether it answers, its daemons' logs, and running its client commands.</summary>
public static class SlurmCluster
{
    /// <summary>Null when sinfo shows a usable node, else what is wrong.</summary>
    public static string? Missing()
    {
        if (Prerequisites.FindOnPath("sinfo") == null) return "Slurm not installed (apt-get install -y slurm-wlm munge; then tools/slurm_local.sh start)";
        var (code, output) = Run("sinfo", "-h", "-o", "%t");
        return code == 0 && output.Split('\n').Any(s => s.Trim() is "idle" or "mix" or "alloc")
            ? null : $"Slurm is not running (sinfo: {output.Trim()}); start it with tools/slurm_local.sh start";
    }

    /// <summary>The end of munged's, slurmctld's and slurmd's logs.</summary>
    public static string Logs() => Run("bash", Path.Combine(Prerequisites.RepoRoot, "tools", "slurm_local.sh"), "logs").Output;

    /// <summary>Runs a command for at most a minute; its exit code and combined output.</summary>
    public static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
