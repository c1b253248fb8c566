using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>A study file that is not valid; the message names the file and the problem.</summary>
public sealed class StudyFormatException(string message) : Exception(message);

/// <summary>
/// The stage-1 training of each (fold, label split) that every arm starts from (METHODS §7.1), or, with
/// <see cref="Starts"/>, existing checkpoints that stand for it (no stage-1 run is planned then).
/// </summary>
public sealed record StudyStage1
{
    public string Head { get; init; } = "alp";
    public int Iterations { get; init; }
    public ulong Seed { get; init; } = 1234;
    /// <summary>TrainConfig fields for stage 1 only, on top of the study's <c>train</c> fields.</summary>
    public JsonObject? Options { get; init; }
    /// <summary>One existing checkpoint per (fold, split) of the grid, as every arm's start (relative paths: to the study file).</summary>
    public StudyStart[]? Starts { get; init; }
}

/// <summary>
/// A given shared start: the checkpoint of one (fold, label split). <see cref="Sha256"/> pins its content: a checkpoint
/// that differs is refused, and with it the study can still be planned and collected once the checkpoint is gone.
/// </summary>
public sealed record StudyStart
{
    public required int Fold { get; init; }
    public required string Split { get; init; }
    public required string Checkpoint { get; init; }
    public string? Sha256 { get; init; }
}

/// <summary>One arm: a head (and its options) trained from the shared start, once per unit.</summary>
public sealed record StudyArm
{
    public required string Name { get; init; }
    public required string Head { get; init; }
    public JsonObject? Options { get; init; }
}

/// <summary>How every arm run is evaluated after training (the fold's evaluation protocol, PROTOCOL §6).</summary>
public sealed record StudyEvaluation
{
    /// <summary>
    /// Also score per simulated rater (METHODS §4, at the feature scale of §6), beside the ground-truth score: a second file per run
    /// (dice_raters.csv, dice_supports_raters.csv) and a second table from <c>sweep collect</c>, so JAPC is scored per rater.
    /// </summary>
    public bool SimulatedRaters { get; init; }
    /// <summary>Rotate the support over the fold's unseen scans (METHODS §7.3); <c>sweep collect</c> then pairs on every support–query pair.</summary>
    public bool AllSupports { get; init; }
}

/// <summary>
/// A study (JSON): the grid of trainings METHODS §7 compares. Per (fold, label split) one stage-1 run; from its
/// checkpoint each arm trains once per seed; a unit is (fold, split, seed). <c>train</c> holds TrainConfig fields
/// shared by every run (PascalCase, as in a checkpoint's config); relative paths are relative to the study file.
/// </summary>
public sealed record Study
{
    public required string Data { get; init; }
    /// <summary>chaos, sabs or a dataset descriptor (relative to the study file); default: detected from the data folder, as train does.</summary>
    public string? Dataset { get; init; }
    public string? Superpixels { get; init; }
    /// <summary>Output folder of the runs, the manifest and the collected tables.</summary>
    public string Out { get; init; } = "runs";
    public JsonObject? Train { get; init; }
    public required int[] Folds { get; init; }
    /// <summary>Label splits as their unseen classes, e.g. "2,3" (kidneys) and "1,4" (liver, spleen).</summary>
    public required string[] Splits { get; init; }
    public required ulong[] Seeds { get; init; }
    public required StudyStage1 Stage1 { get; init; }
    /// <summary>Iterations of every arm run.</summary>
    public required int Iterations { get; init; }
    public required StudyArm[] Arms { get; init; }
    /// <summary>The arm every other arm is compared with.</summary>
    public string Control { get; init; } = "control";
    public int CheckpointEvery { get; init; } = 250;
    public StudyEvaluation Evaluation { get; init; } = new();

    /// <summary>The study file this was read from (absolute); relative paths resolve against its folder.</summary>
    [JsonIgnore]
    public string File { get; init; } = "";

    [JsonIgnore]
    public string OutDir => Resolve(Out);

    /// <summary>The dataset <see cref="Dataset"/> names, resolved when the study is loaded.</summary>
    [JsonIgnore]
    public DatasetInfo DatasetInfo { get; init; } = DatasetInfo.Chaos;

    /// <summary>The label set of a split ("2,3" or "RK,LK").</summary>
    public int LabelSetOf(string split) => DatasetInfo.LabelSetOf(split);

    public string Resolve(string path) => Path.GetFullPath(path, Path.GetDirectoryName(File)!);

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and checks a study file; every problem is a <see cref="StudyFormatException"/> naming the file.</summary>
    public static Study Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!System.IO.File.Exists(full)) throw new StudyFormatException($"{path}: study file does not exist");
        Study study;
        try
        {
            study = JsonSerializer.Deserialize<Study>(System.IO.File.ReadAllText(full), Options) ?? throw new JsonException("empty document");
        }
        catch (JsonException e)
        {
            throw new StudyFormatException($"{path}: not a valid study file: {e.Message}");
        }
        study = study with { File = full };
        var data = study.Resolve(study.Data);
        if (!Directory.Exists(data)) throw new StudyFormatException($"{full}: data folder '{data}' does not exist");
        try
        {
            study = study with { DatasetInfo = DatasetDescriptor.Resolve(study.Dataset is "chaos" or "sabs" or null ? study.Dataset : study.Resolve(study.Dataset), data).Dataset };
        }
        catch (DataFormatException e)
        {
            throw new StudyFormatException($"{full}: dataset: {e.Message}");
        }
        study.Check();
        return study;
    }

    private void Check()
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new StudyFormatException($"{File}: {problem}");
        }
        Require(Folds.Length > 0 && Splits.Length > 0 && Seeds.Length > 0, "folds, splits and seeds must each name at least one value");
        Require(Folds.Distinct().Count() == Folds.Length && Splits.Distinct().Count() == Splits.Length && Seeds.Distinct().Count() == Seeds.Length,
            "folds, splits and seeds must not repeat a value");
        Require(Arms.Length > 0 && Arms.Select(a => a.Name).Distinct().Count() == Arms.Length, "arms must be non-empty with distinct names");
        Require(Arms.All(a => a.Name.Length > 0 && a.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+')),
            "arm names may hold only letters, digits, '-', '_' and '+' (they name folders)");
        Require(Arms.Any(a => a.Name == Control), $"control arm '{Control}' is not one of the arms");
        Require(Iterations > 0 && (Stage1.Starts != null || Stage1.Iterations > 0) && CheckpointEvery > 0,
            "iterations, stage1.iterations (unless stage1.starts are given) and checkpoint_every must be positive");
        foreach (var split in Splits)
        {
            try { LabelSetOf(split); }
            catch (ArgumentException e) { throw new StudyFormatException($"{File}: split '{split}': {e.Message}"); }
        }
        if (Stage1.Starts is { } starts)
        {
            foreach (var start in starts)
            {
                Require(Folds.Contains(start.Fold) && Splits.Contains(start.Split), $"stage1.starts: fold {start.Fold}, split '{start.Split}' is not in the study's grid");
                string path = Resolve(start.Checkpoint);
                Require(System.IO.File.Exists(path) || start.Sha256 != null,
                    $"stage1.starts: checkpoint '{path}' does not exist (give its sha256 to plan and collect without it)");
                Require(start.Sha256 == null || (start.Sha256.Length == 64 && start.Sha256.All(char.IsAsciiHexDigit)),
                    $"stage1.starts: sha256 '{start.Sha256}' of fold {start.Fold}, split '{start.Split}' is not 64 hex digits");
                if (start.Sha256 != null && System.IO.File.Exists(path) && Trainer.InitSha256(path) is var actual)
                    Require(actual == start.Sha256.ToLowerInvariant(), $"stage1.starts: checkpoint '{path}' has sha256 {actual}, not the study's {start.Sha256}");
            }
            foreach (var fold in Folds)
            foreach (var split in Splits)
                Require(starts.Count(s => s.Fold == fold && s.Split == split) == 1, $"stage1.starts: fold {fold}, split '{split}' needs exactly one checkpoint");
        }
    }

    /// <summary>
    /// The given start checkpoint (full path) of a (fold, split) and its SHA-256 (the study's, else the file's), or null
    /// when stage 1 is trained by the study.
    /// </summary>
    public (string Checkpoint, string Sha256)? GivenStart(int fold, string split) =>
        Stage1.Starts?.Single(s => s.Fold == fold && s.Split == split) is { } start
            ? (Resolve(start.Checkpoint), start.Sha256?.ToLowerInvariant() ?? Trainer.InitSha256(Resolve(start.Checkpoint)))
            : null;

    /// <summary>Fields the sweep sets per run; a study may not set them in <c>train</c> or options.</summary>
    private static readonly string[] PerRunFields =
        [nameof(TrainConfig.Data), nameof(TrainConfig.Superpixels), nameof(TrainConfig.Head), nameof(TrainConfig.Fold), nameof(TrainConfig.LabelSet),
         nameof(TrainConfig.Seed), nameof(TrainConfig.Iterations), nameof(TrainConfig.Init), nameof(TrainConfig.InitSha256),
         nameof(TrainConfig.Dataset), nameof(TrainConfig.Intensity)];

    /// <summary>
    /// The TrainConfig of one run: defaults, then the study's <c>train</c> fields, then the stage's or arm's options,
    /// then the fields the grid fixes (data, head, fold, split, seed, iterations, init).
    /// </summary>
    public TrainConfig Config(string head, JsonObject? options, int fold, int labelSet, ulong seed, int iterations, string? init)
    {
        var json = JsonNode.Parse(new TrainConfig().ToJson())!.AsObject();
        foreach (var (source, fields) in new[] { ("train", Train), ("options", options) })
        {
            foreach (var (key, value) in fields ?? [])
            {
                if (!json.ContainsKey(key)) throw new StudyFormatException($"{File}: {source}: '{key}' is not a training option (use TrainConfig names, e.g. InputSize, Depth, Width, LearningRate, DplLoss)");
                if (PerRunFields.Contains(key)) throw new StudyFormatException($"{File}: {source}: '{key}' is set by the study grid, not by options");
                json[key] = value?.DeepClone();
            }
        }
        // As `train --dpl-optimizer sgd` does: an optimiser without its own rate gets that optimiser's default rate.
        if (!new[] { Train, options }.Any(f => f?.ContainsKey(nameof(TrainConfig.DplLr)) == true))
            json[nameof(TrainConfig.DplLr)] = TrainConfig.DefaultDplLr(json[nameof(TrainConfig.DplOptimizer)]!.GetValue<string>());
        TrainConfig config;
        try
        {
            config = TrainConfig.FromJson(json.ToJsonString()) with
            {
                Data = Resolve(Data), Superpixels = Superpixels == null ? null : Resolve(Superpixels), Head = head, Fold = fold, LabelSet = labelSet, Dataset = DatasetInfo,
                Seed = seed, Iterations = iterations, Init = init,
            };
            TrainCommand.Validate(config);
            _ = config.EncoderHead;
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new StudyFormatException($"{File}: head {head}: {e.Message}");
        }
        return config;
    }
}
