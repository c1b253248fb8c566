using System.Text.Json;
using System.Text.Json.Serialization;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Training;

/// <summary>Everything that defines a training run; stored in every checkpoint so a resume can check it.</summary>
public sealed record TrainConfig
{
    public string Data { get; init; } = "";
    public string? Superpixels { get; init; }
    public string Head { get; init; } = "alp";
    public int Setting { get; init; } = 2;
    public int Fold { get; init; }
    /// <summary>The dataset's label set: for CHAOS 0 tests the kidneys (2, 3), 1 tests liver and spleen (1, 4).</summary>
    public int LabelSet { get; init; }
    public int Iterations { get; init; } = 1000;
    public int InputSize { get; init; } = 256;
    public int[] Depth { get; init; } = [3, 4, 23, 3];
    public double Width { get; init; } = 1.0;
    public string FeatureHead { get; init; } = "reduce";
    /// <summary>"resnet" (Bottleneck blocks, random init), "resnet-basic" (BasicBlocks, random init) or "resnet18-imagenet" (pretrained, BasicBlocks 2-2-2-3).</summary>
    public string Encoder { get; init; } = "resnet";
    /// <summary>Batch norm in the encoder's ResNet in eval mode: running statistics used and kept, only γ and β trained.</summary>
    public bool FreezeBatchNorm { get; init; }
    /// <summary>The encoder ResNet's learning rate as a fraction of the head's (the reduce conv and heads keep the full rate).</summary>
    public double EncoderLrScale { get; init; } = 1.0;
    public ulong Seed { get; init; } = 1234;
    public double LearningRate { get; init; } = 1e-3;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public double Gamma { get; init; } = 0.95;
    public int DecayEvery { get; init; } = 1000;
    /// <summary>JAPC's calibrated prototypes: "attention" (the paper's P̃ = A V) or "gated" (P + γ(A V − P), γ = 0 at start).</summary>
    public string JapcForm { get; init; } = "attention";
    /// <summary>DPL's alignment loss: "prototype" (METHODS eq. 15) or "panet".</summary>
    public string DplAlignment { get; init; } = "prototype";
    /// <summary>Which prototypes DPL enhances: "all" or "global" (only the fg masked average, the paper's p0).</summary>
    public string DplTarget { get; init; } = "all";
    /// <summary>β, the weight of L_diff.</summary>
    public double DplBeta { get; init; } = 0.02;
    /// <summary>Episodes from ground-truth labels of the training classes instead of superpixels (the demo uses this).</summary>
    public bool SupervisedEpisodes { get; init; }
    /// <summary>Label names, evaluated classes, label groups and fold size (checkpoints from before it existed are CHAOS).</summary>
    public global::IlgpuSeg.Data.Dataset.DatasetInfo Dataset { get; init; } = global::IlgpuSeg.Data.Dataset.DatasetInfo.Chaos;
    /// <summary>CT: the training fold's intensity statistics, which eval and segment z-score with too; null for MR (per volume).</summary>
    public global::IlgpuSeg.Data.Dataset.IntensityStatistics? Intensity { get; init; }
    /// <summary>Checkpoint whose encoder and head weights start this run (train --init); optimiser and schedules start fresh.</summary>
    public string? Init { get; init; }
    /// <summary>SHA-256 (hex) of the <see cref="Init"/> file, recorded when the run starts.</summary>
    public string? InitSha256 { get; init; }

    [JsonIgnore]
    public global::IlgpuSeg.Data.Dataset.Setting ProtocolSetting =>
        Setting == 1 ? global::IlgpuSeg.Data.Dataset.Setting.One : global::IlgpuSeg.Data.Dataset.Setting.Two;

    [JsonIgnore]
    public FeatureHead EncoderHead => FeatureHead switch
    {
        "reduce" => Models.FeatureHead.Reduce,
        "aspp" => Models.FeatureHead.Aspp,
        _ => throw new ArgumentException($"unknown feature head '{FeatureHead}' (reduce or aspp)"),
    };

    [JsonIgnore]
    public JapcConfig Japc => JapcConfig.Default with
    {
        Form = JapcForm switch
        {
            "attention" => Models.JapcForm.Attention,
            "gated" => Models.JapcForm.GatedResidual,
            _ => throw new ArgumentException($"unknown JAPC form '{JapcForm}' (attention or gated)"),
        },
    };

    [JsonIgnore]
    public DplConfig Dpl => DplConfig.Default with
    {
        Alignment = DplAlignment switch
        {
            "prototype" => Models.DplAlignment.Prototype,
            "panet" => Models.DplAlignment.Panet,
            _ => throw new ArgumentException($"unknown DPL alignment '{DplAlignment}' (prototype or panet)"),
        },
        Target = DplTarget switch
        {
            "all" => Models.DplTarget.All,
            "global" => Models.DplTarget.Global,
            _ => throw new ArgumentException($"unknown DPL target '{DplTarget}' (all or global)"),
        },
        LossWeight = DplBeta >= 0 && double.IsFinite(DplBeta) ? DplBeta : throw new ArgumentException($"DPL β {DplBeta} must be a finite number ≥ 0"),
    };

    [JsonIgnore]
    public ResNetConfig ResNet => new(Depth, [false, true, true], Width, Encoder switch
    {
        "resnet" => ResNetBlock.Bottleneck,
        "resnet-basic" or Pretrained.ImageNetResNet18.EncoderName => ResNetBlock.Basic,
        _ => throw new ArgumentException($"unknown encoder '{Encoder}' (resnet, resnet-basic or {Pretrained.ImageNetResNet18.EncoderName})"),
    });

    public string ToJson() => JsonSerializer.Serialize(this);

    public static TrainConfig FromJson(string json) => JsonSerializer.Deserialize<TrainConfig>(json) ?? throw new JsonException("empty config");

    /// <summary>The fields that must agree between a checkpoint and a resumed run (paths may move; the init file's hash may not).</summary>
    public bool SameRunAs(TrainConfig other) =>
        (this with { Data = "", Superpixels = null, Iterations = 0, Init = null }).ToJson() == (other with { Data = "", Superpixels = null, Iterations = 0, Init = null }).ToJson();
}
