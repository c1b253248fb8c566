using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace IlgpuSeg.Engine;

/// <summary>
/// The kernel sources (Engine/Kernels, embedded): written once in restricted OpenCL C and compiled as
/// OpenCL or, behind a prelude, as CUDA. A program is defines + prelude + common.h + every .cl file.
/// </summary>
public static class KernelSource
{
    public enum Dialect
    {
        OpenCL,
        Cuda,
    }

    private const string Prefix = "IlgpuSeg.Kernels.";

    /// <summary>The kernel files, one per op family, in a fixed order.</summary>
    public static IReadOnlyList<string> KernelFiles { get; } = typeof(KernelSource).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".cl", StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..]).Order(StringComparer.Ordinal).ToArray();

    public static string Read(string file)
    {
        using var stream = typeof(KernelSource).Assembly.GetManifestResourceStream(Prefix + file)
            ?? throw new FileNotFoundException($"kernel resource {file} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The defines every program gets: element type and whether the device has fp64.</summary>
    public static IEnumerable<string> TypeDefines(DType dtype, bool hasFp64)
    {
        yield return "REAL " + (dtype == DType.Float32 ? "float" : "double");
        if (dtype == DType.Float64) yield return "REAL_IS_DOUBLE 1";
        if (hasFp64) yield return "HAS_FP64 1";
    }

    /// <summary>
    /// The whole program for one dialect: the defines first (the OpenCL prelude reads HAS_FP64), then the
    /// prelude, common.h and the given kernel files (all of them by default).
    /// </summary>
    public static string Assemble(Dialect dialect, IEnumerable<string> defines, IEnumerable<string>? files = null)
    {
        var sb = new StringBuilder();
        foreach (var d in defines) sb.Append("#define ").Append(d).Append('\n');
        sb.Append(Read(dialect == Dialect.OpenCL ? "prelude_opencl.h" : "prelude_cuda.h")).Append('\n');
        sb.Append(Read("common.h")).Append('\n');
        foreach (var f in files ?? KernelFiles) sb.Append("// ---- ").Append(f).Append(" ----\n").Append(Read(f)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Hex SHA-256 of the parts, for binary cache keys.</summary>
    public static string Hash(params string[] parts) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n\0", parts))))[..32].ToLowerInvariant();

    /// <summary>$XDG_CACHE_HOME/ilgpuseg/&lt;sub&gt; or ~/.cache/ilgpuseg/&lt;sub&gt;.</summary>
    public static string CacheDirectory(string sub)
    {
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(root)) root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "ilgpuseg", sub);
    }

    /// <summary>Reads a cached binary, or null.</summary>
    internal static byte[]? ReadCache(string sub, string key)
    {
        var path = Path.Combine(CacheDirectory(sub), key + ".bin");
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Writes a binary atomically (temp file + rename), so concurrent processes never see half a file.</summary>
    internal static void WriteCache(string sub, string key, byte[] binary)
    {
        try
        {
            var dir = CacheDirectory(sub);
            Directory.CreateDirectory(dir);
            var tmp = Path.Combine(dir, $"{key}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            File.WriteAllBytes(tmp, binary);
            File.Move(tmp, Path.Combine(dir, key + ".bin"), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written only costs a rebuild next time.
        }
    }
}
