using System.Globalization;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Training;

/// <summary>
/// A training checkpoint in one safetensors file: model tensors under "model.", optimizer momentum under
/// "optimizer.", and metadata holding the config, the next iteration, both generator counters and the
/// skipped-episode count, and the head noise generator (DPL). Written to a temporary file and renamed, so a crash never leaves a half file.
/// </summary>
public sealed record Checkpoint(TrainConfig Config, int Iteration, ulong EpisodeCounter, ulong ModelCounter, ulong NoiseCounter, int Skipped,
    Dictionary<string, Tensor> Model, Dictionary<string, Tensor> Optimizer)
{
    /// <summary>Counter of the pseudo-style generator (JAPC's own style stream); 0 in checkpoints from before it existed.</summary>
    public ulong StyleCounter { get; init; }

    public void Save(string path)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in Model) tensors["model." + k] = v;
        foreach (var (k, v) in Optimizer) tensors["optimizer." + k] = v;
        SafeTensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "ilgpuseg-train-1",
            ["config"] = Config.ToJson(),
            ["iteration"] = Iteration.ToString(CultureInfo.InvariantCulture),
            ["episode_counter"] = EpisodeCounter.ToString(CultureInfo.InvariantCulture),
            ["model_counter"] = ModelCounter.ToString(CultureInfo.InvariantCulture),
            ["noise_counter"] = NoiseCounter.ToString(CultureInfo.InvariantCulture),
            ["style_counter"] = StyleCounter.ToString(CultureInfo.InvariantCulture),
            ["skipped"] = Skipped.ToString(CultureInfo.InvariantCulture),
        });
    }

    /// <summary>Reads a checkpoint; anything malformed is a <see cref="CheckpointFormatException"/> naming the file.</summary>
    public static Checkpoint Load(string path)
    {
        var contents = SafeTensors.Read(path);
        var meta = contents.Metadata;
        string Get(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new CheckpointFormatException($"{path}: not an ilgpuseg training checkpoint (no '{key}' in its metadata)");
        if (Get("format") != "ilgpuseg-train-1") throw new CheckpointFormatException($"{path}: unknown checkpoint format '{meta["format"]}'");
        try
        {
            return new Checkpoint(TrainConfig.FromJson(Get("config")), int.Parse(Get("iteration"), CultureInfo.InvariantCulture),
                ulong.Parse(Get("episode_counter"), CultureInfo.InvariantCulture), ulong.Parse(Get("model_counter"), CultureInfo.InvariantCulture), meta.TryGetValue("noise_counter", out var noise) ? ulong.Parse(noise, CultureInfo.InvariantCulture) : 0, // absent before DPL existed
                int.Parse(Get("skipped"), CultureInfo.InvariantCulture),
                contents.Tensors.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value),
                contents.Tensors.Where(kv => kv.Key.StartsWith("optimizer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["optimizer.".Length..], kv => kv.Value))
            {
                StyleCounter = meta.TryGetValue("style_counter", out var style) ? ulong.Parse(style, CultureInfo.InvariantCulture) : 0,
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or System.Text.Json.JsonException)
        {
            throw new CheckpointFormatException($"{path}: malformed checkpoint metadata: {e.Message}");
        }
    }
}
