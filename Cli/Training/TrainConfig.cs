using System.Text.Json;
using System.Text.Json.Nodes;
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
    /// <summary>ALP pooling windows: training, test, and the foreground check (METHODS §6).</summary>
    public int[] AlpWindows { get; init; } = [4, 2, 4];
    /// <summary>JAPC's calibrated prototypes: "rater" (each prototype attends over its rater versions, METHODS §6), "attention" (the paper's joint P̃ = A V) or "gated" (P + γ(A V − P), γ = 0 at start).</summary>
    public string JapcForm { get; init; } = "rater";
    /// <summary>JAPC's L_calib on "unit"-normalised or "raw" prototypes.</summary>
    public string JapcCalib { get; init; } = "unit";
    /// <summary>DPL's loss terms: "added" (the baseline's + λ·eq. 15 + β·L_diff), "replaced" (eq. 15 instead of PANet alignment), "panet" or "paper" (unweighted CE + eq. 15).</summary>
    public string DplLoss { get; init; } = "added";
    /// <summary>λ, the weight of eq. 15 in the added form.</summary>
    public double DplLambda { get; init; } = 1.0;
    /// <summary>How β applies to L_diff: "split" (DPL modules at full weight, β on the encoder's share) or "scaled" (β on all of it).</summary>
    public string DplDiffGradient { get; init; } = "split";
    /// <summary>DPL's training noise: "matched" (t* and K as inference, L_diff's t ~ U{1..t*}) or "first" (t ~ U{1..T}, K = 1).</summary>
    public string DplNoise { get; init; } = "matched";
    /// <summary>DPL's geometric statistics on the "raw" prototypes or on the "unit"-RMS copy.</summary>
    public string DplStatistics { get; init; } = "raw";
    /// <summary>Where JAPC's pseudo-styles draw: their "own" generator (JAPC's stage 1 equals ALP's run) or the "episode" generator.</summary>
    public string StyleStream { get; init; } = "own";
    /// <summary>Rater and pseudo-style operations at the feature "cell" scale or the first "pixel" scale (1–3 px).</summary>
    public string RaterScale { get; init; } = "cell";
    /// <summary>Which prototypes DPL enhances: "all" or "global" (only the fg masked average, the paper's p0).</summary>
    public string DplTarget { get; init; } = "all";
    /// <summary>β, the weight of L_diff.</summary>
    public double DplBeta { get; init; } = 0.02;
    /// <summary>DPL's inference start step t* (and training's, with matched noise); eval may override it (issue 16's no-training checks).</summary>
    public int DplStart { get; init; } = DplConfig.Default.InferenceStart;
    /// <summary>DPL's K averaged variants at inference (and in training, with matched noise); eval may override it.</summary>
    public int DplVariants { get; init; } = DplConfig.Default.Variants;
    /// <summary>
    /// The DPL modules' ("dpl.*") optimiser (METHODS §6: the denoiser must learn): "adam" (torch.optim.Adam, no weight decay) or
    /// "sgd" (the first form: the run's SGD with its momentum and weight decay at <see cref="DplLr"/>). On CHAOS prototypes L_diff
    /// stayed near 1 under SGD at any rate that did not diverge, and weight decay alone held it there (the i17 note).
    /// </summary>
    public string DplOptimizer { get; init; } = "adam";
    /// <summary>How DPL's condition reaches the noise predictor: "input" (ε_θ([p_t; emb(t); c])) or "additive" (the first form, ε_θ + α_t·c).</summary>
    public string DplInjection { get; init; } = "input";
    /// <summary>
    /// The DPL modules' initial learning rate, decayed by the schedule as the base rate is. Checkpoints from before it existed ran
    /// at <see cref="LearningRate"/>.
    /// </summary>
    public double DplLr { get; init; } = DefaultDplLr("adam");
    /// <summary>Adam's usual 1e-3; SGD needs ~D times the base rate because L_diff is a mean over the D = 256 channels (the i16 note).</summary>
    public static double DefaultDplLr(string optimizer) => optimizer == "sgd" ? 0.5 : 1e-3;
    [JsonIgnore]
    public bool AdamForDpl => Choice(DplOptimizer, "adam", "sgd", "DPL optimizer");
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
    public AlpConfig Alp => AlpWindows is [> 0 and var train, > 0 and var test, > 0 and var check]
        ? AlpConfig.Default with { TrainWindow = train, TestWindow = test, FgCheckWindow = check }
        : throw new ArgumentException($"ALP windows '{string.Join(",", AlpWindows)}' must be three positive sizes (train, test, foreground check)");

    [JsonIgnore]
    public JapcConfig Japc => JapcConfig.Default with
    {
        Form = JapcForm switch
        {
            "rater" => Models.JapcForm.RaterAttention,
            "attention" => Models.JapcForm.Attention,
            "gated" => Models.JapcForm.GatedResidual,
            _ => throw new ArgumentException($"unknown JAPC form '{JapcForm}' (rater, attention or gated)"),
        },
        UnitCalibration = Choice(JapcCalib, "unit", "raw", "JAPC calibration loss"),
    };

    [JsonIgnore]
    public bool OwnStyleStream => Choice(StyleStream, "own", "episode", "pseudo-style stream");

    [JsonIgnore]
    public bool CellScaleRaters => Choice(RaterScale, "cell", "pixel", "rater scale");

    [JsonIgnore]
    public DplConfig Dpl => DplConfig.Default with
    {
        Loss = DplLoss switch
        {
            "added" => Models.DplLoss.Added,
            "replaced" => Models.DplLoss.Replaced,
            "panet" => Models.DplLoss.Panet,
            "paper" => Models.DplLoss.Paper,
            _ => throw new ArgumentException($"unknown DPL loss '{DplLoss}' (added, replaced, panet or paper)"),
        },
        EquationWeight = DplLambda >= 0 && double.IsFinite(DplLambda) ? DplLambda : throw new ArgumentException($"DPL λ {DplLambda} must be a finite number ≥ 0"),
        SplitDiffusionGradient = Choice(DplDiffGradient, "split", "scaled", "DPL diffusion gradient"),
        MatchedNoise = Choice(DplNoise, "matched", "first", "DPL noise"),
        RawStatistics = Choice(DplStatistics, "raw", "unit", "DPL statistics"),
        Target = DplTarget switch
        {
            "all" => Models.DplTarget.All,
            "global" => Models.DplTarget.Global,
            _ => throw new ArgumentException($"unknown DPL target '{DplTarget}' (all or global)"),
        },
        LossWeight = DplBeta >= 0 && double.IsFinite(DplBeta) ? DplBeta : throw new ArgumentException($"DPL β {DplBeta} must be a finite number ≥ 0"),
        InferenceStart = DplStart is >= 1 and var start && start <= DplConfig.Default.Steps ? start
            : throw new ArgumentException($"DPL start step {DplStart} must be in 1..{DplConfig.Default.Steps}"),
        Injection = Choice(DplInjection, "input", "additive", "DPL injection") ? Models.DplInjection.Input : Models.DplInjection.Additive,
        Variants = DplVariants >= 1 ? DplVariants : throw new ArgumentException($"DPL variants K = {DplVariants} must be at least 1"),
    };

    [JsonIgnore]
    public ResNetConfig ResNet => new(Depth, [false, true, true], Width, Encoder switch
    {
        "resnet" => ResNetBlock.Bottleneck,
        "resnet-basic" or Pretrained.ImageNetResNet18.EncoderName => ResNetBlock.Basic,
        _ => throw new ArgumentException($"unknown encoder '{Encoder}' (resnet, resnet-basic or {Pretrained.ImageNetResNet18.EncoderName})"),
    });

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>
    /// Reads a stored config. A config written before an option existed gets the form that ran then: the METHODS §6
    /// options missing from it take their first form, and the old DplAlignment (prototype | panet) becomes DplLoss
    /// (replaced | panet), so old checkpoints evaluate and resume as they were trained.
    /// </summary>
    public static TrainConfig FromJson(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("the config is not a JSON object");
        if (!node.ContainsKey(nameof(DplLoss)))
            node[nameof(DplLoss)] = node["DplAlignment"]?.GetValue<string>() == "panet" ? "panet" : "replaced";
        node.Remove("DplAlignment");
        foreach (var (key, first) in FirstForms)
            if (!node.ContainsKey(key)) node[key] = first;
        if (!node.ContainsKey(nameof(DplLr))) node[nameof(DplLr)] = node[nameof(LearningRate)]?.GetValue<double>() ?? new TrainConfig().LearningRate;
        return node.Deserialize<TrainConfig>() ?? throw new JsonException("empty config");
    }

    /// <summary>The METHODS §6 options whose default changed, with the form that ran before they existed.</summary>
    private static readonly (string Key, string First)[] FirstForms =
    [
        (nameof(JapcForm), "attention"), (nameof(JapcCalib), "raw"), (nameof(DplDiffGradient), "scaled"), (nameof(DplNoise), "first"),
        (nameof(DplStatistics), "unit"), (nameof(DplOptimizer), "sgd"), (nameof(DplInjection), "additive"), (nameof(StyleStream), "episode"), (nameof(RaterScale), "pixel"),
    ];

    /// <summary>True for <paramref name="revised"/>, false for <paramref name="first"/>; anything else is an error naming the option.</summary>
    private static bool Choice(string value, string revised, string first, string what) =>
        value == revised || (value == first ? false : throw new ArgumentException($"unknown {what} '{value}' ({revised} or {first})"));

    /// <summary>
    /// Each SGD parameter's learning rate as a multiple of the base rate: the encoder's ResNet at <see cref="EncoderLrScale"/>, DPL's
    /// modules (when SGD trains them) at <see cref="DplLr"/> / <see cref="LearningRate"/> (0 when the base rate is 0: such a run trains nothing).
    /// </summary>
    public double LrScale(string parameter) =>
        parameter.StartsWith("encoder.backbone.", StringComparison.Ordinal) ? EncoderLrScale
        : IsDplParameter(parameter) ? (LearningRate == 0 ? 0 : DplLr / LearningRate)
        : 1.0;

    public static bool IsDplParameter(string parameter) => parameter.StartsWith("dpl.", StringComparison.Ordinal);

    /// <summary>The fields that must agree between a checkpoint and a resumed run (paths may move; the init file's hash may not).</summary>
    public bool SameRunAs(TrainConfig other) =>
        (this with { Data = "", Superpixels = null, Iterations = 0, Init = null }).ToJson() == (other with { Data = "", Superpixels = null, Iterations = 0, Init = null }).ToJson();
}
