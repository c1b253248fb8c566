using System.CommandLine;
using System.Globalization;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg train</c>: self-supervised episodic training with checkpoints and resume. With no arguments it
/// runs a short demo on built-in synthetic phantoms and prints Dice on the unseen classes.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "SSL-ALPNet data folder (image_/label_<pid>.nii.gz, classmap_1.json); none runs the phantom demo" };
        var superpixels = new Option<string?>("--superpixels") { Description = "Folder of superpix-MIDDLE_<pid>.nii.gz (default: the data folder)" };
        var head = new Option<string>("--head") { Description = "alp | dpl | japc | dpl+japc", DefaultValueFactory = _ => "alp" };
        var setting = new Option<int>("--setting") { Description = "1 or 2 (2 drops training slices holding test classes)", DefaultValueFactory = _ => 2 };
        var fold = new Option<int>("--fold") { Description = "Evaluation fold (CHAOS: 0-4)", DefaultValueFactory = _ => 0 };
        var testClasses = new Option<string>("--test-classes") { Description = "Unseen classes: 2,3 (kidneys) or 1,4 (liver, spleen)", DefaultValueFactory = _ => "2,3" };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 1000 };
        var size = new Option<int>("--size") { Description = "Input size (slices are resized to size × size)", DefaultValueFactory = _ => 256 };
        var depth = new Option<string>("--depth") { Description = "Bottleneck blocks per stage, e.g. 3,4,23,3 (ResNet-101) or 1,1,1,1", DefaultValueFactory = _ => "3,4,23,3" };
        var width = new Option<double>("--width") { Description = "Channel width multiplier (1 = the paper's)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1234UL };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var checkpoints = new Option<string>("--checkpoints") { Description = "Checkpoint folder", DefaultValueFactory = _ => "checkpoints" };
        var every = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 250 };
        var resume = new Option<string?>("--resume") { Description = "Checkpoint to continue from" };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after this iteration with a checkpoint (schedules still follow --iterations); continue later with --resume" };
        var device = new Option<string>("--device") { Description = "cpu, ilgpu-cpu, cuda or opencl (optionally :N)", DefaultValueFactory = _ => "cpu" };
        var japcForm = new Option<string>("--japc-form") { Description = "JAPC calibration: attention (the paper's) or gated (residual, γ = 0 at start)", DefaultValueFactory = _ => "attention" };
        var dplAlignment = new Option<string>("--dpl-alignment") { Description = "DPL alignment loss: prototype (METHODS eq. 15) or panet", DefaultValueFactory = _ => "prototype" };
        var dplTarget = new Option<string>("--dpl-target") { Description = "Prototypes DPL enhances: all or global (the fg masked average only)", DefaultValueFactory = _ => "all" };
        var dplBeta = new Option<double>("--dpl-beta") { Description = "β, the weight of DPL's diffusion loss", DefaultValueFactory = _ => 0.02 };
        var command = new Command("train", "Train a few-shot segmenter on superpixel pseudo-labels (no arguments: a short demo on synthetic phantoms)")
            { data, superpixels, head, setting, fold, testClasses, iterations, size, depth, width, seed, threads, checkpoints, every, resume, stopAfter, device,
              japcForm, dplAlignment, dplTarget, dplBeta };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var dataDir = parse.GetValue(data);
                if (dataDir == null && parse.GetValue(resume) == null) return Demo(Accelerators.Select(parse.GetValue(device)!, parse.GetValue(threads)), output, error);
                var config = new TrainConfig
                {
                    Data = dataDir ?? throw new ArgumentException("--data is required with --resume"),
                    Superpixels = parse.GetValue(superpixels),
                    Head = parse.GetValue(head)!,
                    Setting = parse.GetValue(setting),
                    Fold = parse.GetValue(fold),
                    LabelSet = LabelSet(parse.GetValue(testClasses)!),
                    Iterations = parse.GetValue(iterations),
                    InputSize = parse.GetValue(size),
                    Depth = ParseDepth(parse.GetValue(depth)!),
                    Width = parse.GetValue(width),
                    Seed = parse.GetValue(seed),
                    JapcForm = parse.GetValue(japcForm)!,
                    DplAlignment = parse.GetValue(dplAlignment)!,
                    DplTarget = parse.GetValue(dplTarget)!,
                    DplBeta = parse.GetValue(dplBeta),
                };
                Validate(config);
                if (parse.GetValue(stopAfter) is int stop && stop < 1) throw new ArgumentException($"--stop-after {stop}: must be at least 1");
                var result = Trainer.Run(config, parse.GetValue(checkpoints)!, parse.GetValue(every), parse.GetValue(resume),
                    Accelerators.Select(parse.GetValue(device)!, parse.GetValue(threads)), output, error, parse.GetValue(stopAfter));
                output.WriteLine($"done: {result.Iterations} iterations, {result.Skipped} skipped, mean loss of the last 50 {result.MeanLastLoss:F4}; checkpoint {result.CheckpointPath}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or DataFormatException or CheckpointFormatException or StateDictMismatchException
                or ResumeMismatchException or TrainingDivergedException or IOException or KeyNotFoundException or InvalidOperationException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>CHAOS label set from the unseen classes: {2, 3} → 0, {1, 4} → 1.</summary>
    public static int LabelSet(string classes)
    {
        var set = classes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(c =>
            int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"--test-classes: '{c}' is not a class number")).Order().ToArray();
        if (set.SequenceEqual([2, 3])) return 0;
        if (set.SequenceEqual([1, 4])) return 1;
        var unknown = set.Where(c => c < 1 || c > 4).ToArray();
        throw new ArgumentException(unknown.Length > 0
            ? $"--test-classes: class {string.Join(",", unknown)} does not exist (CHAOS classes: 1 liver, 2 right kidney, 3 left kidney, 4 spleen)"
            : $"--test-classes: {classes} is not a CHAOS test group (use 2,3 or 1,4)");
    }

    private static int[] ParseDepth(string depth)
    {
        var parts = depth.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4 || parts.Any(p => !int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 1))
            throw new ArgumentException($"--depth: '{depth}' must be four positive block counts, e.g. 3,4,23,3");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    private static void Validate(TrainConfig config)
    {
        if (!Directory.Exists(config.Data)) throw new ArgumentException($"--data: folder '{config.Data}' does not exist");
        if (config.Head is not ("alp" or "dpl" or "japc" or "dpl+japc")) throw new ArgumentException($"--head: unknown head '{config.Head}' (alp, dpl, japc or dpl+japc)");
        try { _ = config.Japc; _ = config.Dpl; }
        catch (ArgumentException e) { throw new ArgumentException($"--japc-form/--dpl-*: {e.Message}"); }
        if (config.Setting is not (1 or 2)) throw new ArgumentException($"--setting: {config.Setting} (use 1 or 2)");
        if (config.Iterations < 1 || config.InputSize < 32 || config.InputSize % 8 != 0)
            throw new ArgumentException("--iterations must be positive and --size a multiple of 8, at least 32");
    }

    /// <summary>The built-in demo: phantoms, a tiny encoder trained on liver and spleen episodes, Dice on the unseen kidneys.</summary>
    public static int Demo(Accelerator acc, TextWriter output, TextWriter error, int iterations = 1500)
    {
        var dir = Path.Combine(Path.GetTempPath(), "ilgpuseg-demo");
        Directory.CreateDirectory(dir);
        PhantomGenerator.WriteFolder(dir, new PhantomOptions(), seed: 7, Enumerable.Range(1, 10).ToArray());
        output.WriteLine($"demo: 10 synthetic phantoms (64×64×24, four organ-like labels) in {dir}");
        var config = new TrainConfig
        {
            Data = dir, Iterations = iterations, InputSize = 64, Depth = [1, 1, 1, 1], Width = 0.125,
            Seed = 7, LabelSet = 0, SupervisedEpisodes = true, DecayEvery = 1000, LearningRate = 1e-3,
        };
        var checkpoints = Path.Combine(dir, "checkpoints");
        var result = Trainer.Run(config, checkpoints, 100, null, acc, output, error);
        var runner = Trainer.LoadRunner(Checkpoint.Load(result.CheckpointPath), acc);
        var (_, _, evaluation) = FoldEvaluation.Run(runner, config, dir, 0, acc);
        output.WriteLine("Dice on the unseen classes (fold 0, trained on liver and spleen episodes only):");
        output.Write(FoldEvaluation.Markdown(evaluation));
        return 0;
    }
}
