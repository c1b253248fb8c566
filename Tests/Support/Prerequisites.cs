namespace IlgpuSeg.Tests.Support;

/// <summary>Something outside the repository that some tests need.</summary>
public enum Need
{
    /// <summary>The project's shared real data at ../shared/data (or $ILGPUSEG_SHARED_DATA).</summary>
    SharedData,
    /// <summary>python3 with torch importable, for regenerating fixtures.</summary>
    PyTorch,
    /// <summary>A running Slurm (sinfo answers; tools/slurm_local.sh start), for the sweep runner's cluster test.</summary>
    Slurm,
    /// <summary>Debian's chromium, for opening generated reports in a real browser.</summary>
    Chromium,
}

/// <summary>
/// Finds external prerequisites. Outside CI a missing one skips the test with a visible reason;
/// with CI=true the test runs anyway and fails, because .ci/run must have provided it.
/// </summary>
public static class Prerequisites
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string SharedDataDir
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("ILGPUSEG_SHARED_DATA");
            if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
            return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
        }
    }

    /// <summary>The repository root: the first ancestor of the test binary holding IlgpuSeg.sln.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "IlgpuSeg.sln"))) return dir.FullName;
            throw new InvalidOperationException("IlgpuSeg.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Null when present, else a sentence saying what is missing.</summary>
    public static string? Missing(Need need) => need switch
    {
        Need.SharedData => Directory.Exists(SharedDataDir) ? null : $"shared data not found at {SharedDataDir}",
        Need.PyTorch => File.Exists("/usr/lib/python3/dist-packages/torch/__init__.py") ? null : "python3-torch not installed",
        Need.Slurm => SlurmCluster.Missing(),
        Need.Chromium => FindOnPath("chromium") != null ? null : "chromium not on PATH (apt-get install chromium)",
        _ => throw new ArgumentOutOfRangeException(nameof(need)),
    };

    public static string? FindOnPath(string exe)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, exe);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>The skip reason for a test needing these, or null when it must run.</summary>
    public static string? SkipReason(Need[] needs)
    {
        if (InCi) return null;
        var missing = needs.Select(Missing).Where(m => m != null).ToArray();
        return missing.Length == 0 ? null : "skipped: " + string.Join("; ", missing);
    }
}

/// <summary>A fact that is skipped, with the reason shown, when a prerequisite is missing outside CI.</summary>
public sealed class FactNeedsAttribute : FactAttribute
{
    public FactNeedsAttribute(params Need[] needs)
    {
        var reason = Prerequisites.SkipReason(needs);
        if (reason != null) Skip = reason;
    }
}

/// <summary>The theory twin of <see cref="FactNeedsAttribute"/>.</summary>
public sealed class TheoryNeedsAttribute : TheoryAttribute
{
    public TheoryNeedsAttribute(params Need[] needs)
    {
        var reason = Prerequisites.SkipReason(needs);
        if (reason != null) Skip = reason;
    }
}
