using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using IlgpuSeg.Cli.Training;

namespace IlgpuSeg.Cli.Reports;

/// <summary>
/// The provenance of a training run, kept as run.json in its folder: how it was started, from which build, on what
/// data and encoder, how fast it went and how many episodes it skipped. Rewritten (atomically) at every checkpoint.
/// </summary>
public sealed record RunRecord
{
    public const string FileName = "run.json";

    public string CommandLine { get; init; } = "";
    /// <summary>The git commit the program was built from, when the build knew it.</summary>
    public string? Commit { get; init; }
    public ulong Seed { get; init; }
    public string Data { get; init; } = "";
    public string Head { get; init; } = "";
    public string Encoder { get; init; } = "";
    public string Device { get; init; } = "";
    public int Iteration { get; init; }
    public int Iterations { get; init; }
    public double SecondsPerIteration { get; init; }
    public int Skipped { get; init; }
    public DateTime UpdatedUtc { get; init; }
    public TrainConfig Config { get; init; } = new();

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads run.json; malformed JSON is a <see cref="JsonException"/>.</summary>
    public static RunRecord Read(string path) => JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path)) ?? throw new JsonException("empty run record");

    /// <summary>The commit from the assembly's informational version ("1.0.0+&lt;sha&gt;"), which the SDK stamps from git.</summary>
    public static string? BuildCommit()
    {
        var version = typeof(RunRecord).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        int plus = version?.IndexOf('+') ?? -1;
        return plus < 0 ? null : version![(plus + 1)..];
    }

    public static string EncoderOf(TrainConfig c) =>
        $"ResNet {string.Join("-", c.Depth)} × width {c.Width}, {c.FeatureHead} feature head, input {c.InputSize}²";
}
