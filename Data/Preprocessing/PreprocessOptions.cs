using System.Text.Json.Serialization;

namespace IlgpuSeg.Data.Preprocessing;

/// <summary>Written as "mr" / "ct" in dataset descriptors.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Modality>))]
public enum Modality
{
    /// <summary>CHAOS T2-SPIR style (PROTOCOL §5.1).</summary>
    [JsonStringEnumMemberName("mr")]
    Mr,
    /// <summary>Synapse/BTCV "SABS" style (PROTOCOL §5.2).</summary>
    [JsonStringEnumMemberName("ct")]
    Ct,
}

/// <summary>The steps and parameters of one preprocessing run. Use <see cref="Mr"/> or <see cref="Ct"/> and change what differs.</summary>
public sealed record PreprocessOptions
{
    public required Modality Modality { get; init; }

    /// <summary>
    /// Output spacing (x, y, z) in mm. Null means the preset's rule: MR 1.25 × 1.25 × 7.7; CT scales the
    /// in-plane spacing by (border-cropped width) / <see cref="Size"/> (448 / 256 = 1.75 for SABS) and keeps z.
    /// </summary>
    public IReadOnlyList<double>? Spacing { get; init; }

    /// <summary>In-plane size: MR slices are centre-cropped/padded to it; CT uses it for the default spacing.</summary>
    public int Size { get; init; } = 256;

    /// <summary>MR: voxels above this percentile are clipped to it.</summary>
    public double ClipPercentile { get; init; } = 99.5;

    /// <summary>CT: HU window before the min-max scaling to 0..255.</summary>
    public double HuLow { get; init; } = HuWindow.DefaultLow;

    public double HuHigh { get; init; } = HuWindow.DefaultHigh;

    /// <summary>CT: pixels cropped from each in-plane border before resampling.</summary>
    public int Border { get; init; } = 32;

    /// <summary>Applied to the raw labels first; null keeps the ids as they are.</summary>
    public LabelMapping? LabelMap { get; init; }

    public static PreprocessOptions Mr { get; } = new() { Modality = Modality.Mr, Spacing = [1.25, 1.25, 7.7] };

    public static PreprocessOptions Ct { get; } = new() { Modality = Modality.Ct };
}
