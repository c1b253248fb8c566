using System.Text.Json;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>
/// What a run's own process last recorded about it (status.json in its folder, written atomically): running, done
/// or failed, when, how long, the error, and the organ-mean Dice of its evaluation (percent).
/// </summary>
public sealed record RunStatus(string State, DateTime Started, DateTime? Finished, double? Seconds, string? Error, double? MeanDice, string Host)
{
    public const string Running = "running", Done = "done", Failed = "failed";

    private const string FileName = "status.json";

    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>The run's status, or null when it never started.</summary>
    public static RunStatus? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunStatus>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new IOException($"{path}: unreadable run status: {e.Message}");
        }
    }

    public void Write(string folder) => AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Options));
}
