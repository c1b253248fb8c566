using System.CommandLine;
using System.Globalization;
using IlgpuSeg.Cli.Pretrained;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
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
        var testClasses = new Option<string?>("--test-classes") { Description = "Unseen classes by number or name: one test group of the dataset, e.g. CHAOS 2,3 = RK,LK (default) or 1,4 = LIVER,SPLEEN" };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 1000 };
        var size = new Option<int>("--size") { Description = "Input size (slices are resized to size × size)", DefaultValueFactory = _ => 256 };
        var depth = new Option<string>("--depth") { Description = "Blocks per stage, e.g. 3,4,23,3 (ResNet-101) or 1,1,1,1", DefaultValueFactory = _ => "3,4,23,3" };
        var width = new Option<double>("--width") { Description = "Channel width multiplier (1 = the paper's)", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1234UL };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var checkpoints = new Option<string>("--checkpoints") { Description = "Checkpoint folder", DefaultValueFactory = _ => "checkpoints" };
        var every = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 250 };
        var snapshotEvery = new Option<int?>("--snapshot-every") { Description = "Also keep the checkpoint of every N-th iteration as checkpoint-<iteration>.safetensors (the latest is always checkpoint.safetensors)" };
        var resume = new Option<string?>("--resume") { Description = "Checkpoint to continue from" };
        var init = new Option<string?>("--init") { Description = "Checkpoint whose encoder and head weights start the run (fresh optimiser and schedules); its path and SHA-256 go into the run's config" };
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after this iteration with a checkpoint (schedules still follow --iterations); continue later with --resume" };
        var device = new Option<string>("--device") { Description = "cpu, ilgpu-cpu, cuda or opencl (optionally :N)", DefaultValueFactory = _ => "cpu" };
        var alpWindows = new Option<string>("--alp-windows") { Description = "ALP pooling windows train,test,fg-check (METHODS §6)", DefaultValueFactory = _ => "4,2,4" };
        var japcForm = new Option<string>("--japc-form") { Description = "JAPC calibration: rater (each prototype over its rater versions), attention (the paper's joint form) or gated (joint, residual γ = 0 at start)", DefaultValueFactory = _ => "rater" };
        var japcCalib = new Option<string>("--japc-calib") { Description = "JAPC's L_calib on unit-normalised or raw prototypes: unit | raw", DefaultValueFactory = _ => "unit" };
        var styleStream = new Option<string>("--style-stream") { Description = "JAPC pseudo-styles from their own generator (stage 1 equals the ALP run) or the episode generator: own | episode", DefaultValueFactory = _ => "own" };
        var raterScale = new Option<string>("--rater-scale") { Description = "Pseudo-styles and simulated raters of 1-2 feature cells, or the first 1-3 px styles: cell | pixel", DefaultValueFactory = _ => "cell" };
        var dplLoss = new Option<string>("--dpl-loss") { Description = "DPL loss: added (baseline + λ·eq. 15 + β·L_diff), replaced (eq. 15 instead of PANet alignment), panet, or paper (unweighted CE + eq. 15)", DefaultValueFactory = _ => "added" };
        var dplLambda = new Option<double>("--dpl-lambda") { Description = "λ, the weight of eq. 15 in the added loss", DefaultValueFactory = _ => 1.0 };
        var dplDiffGradient = new Option<string>("--dpl-diff-gradient") { Description = "split: L_diff trains DPL at full weight, β weights the encoder's share; scaled: β on all of it", DefaultValueFactory = _ => "split" };
        var dplNoise = new Option<string>("--dpl-noise") { Description = "matched: train with inference's t* and K; first: t ~ U{1..T}, K = 1", DefaultValueFactory = _ => "matched" };
        var dplStatistics = new Option<string>("--dpl-statistics") { Description = "DPL's geometric statistics on the raw or unit-RMS prototypes: raw | unit", DefaultValueFactory = _ => "raw" };
        var dplTarget = new Option<string>("--dpl-target") { Description = "Prototypes DPL enhances: all or global (the fg masked average only)", DefaultValueFactory = _ => "all" };
        var dplBeta = new Option<double>("--dpl-beta") { Description = "β, the weight of DPL's diffusion loss", DefaultValueFactory = _ => 0.02 };
        var dplOptimizer = new Option<string>("--dpl-optimizer") { Description = "Optimiser of the DPL modules: adam (no weight decay) or sgd (the run's SGD, the first form)", DefaultValueFactory = _ => "adam" };
        var dplInjection = new Option<string>("--dpl-injection") { Description = "DPL's condition c: input of the noise predictor ε_θ([p_t; emb(t); c]) or additive (ε_θ + α_t·c, the first form)", DefaultValueFactory = _ => "input" };
        var dplLr = new Option<double?>("--dpl-lr") { Description = "Initial learning rate of the DPL modules, decayed with the base rate (default 1e-3 with adam, 0.5 with sgd: L_diff is a mean over D channels)" };
        var encoder = new Option<string>("--encoder")
        {
            Description = "resnet (Bottleneck blocks, random init), resnet-basic (BasicBlocks, random init) or resnet18-imagenet "
                + "(ImageNet weights from the NuGet package, BasicBlocks 2,2,2,3 at width 1; --depth/--width must be left out)",
            DefaultValueFactory = _ => "resnet",
        };
        var freezeBn = new Option<bool>("--freeze-bn") { Description = "Batch norm in the encoder's ResNet in eval mode (running statistics kept)" };
        var encoderLrScale = new Option<double>("--encoder-lr-scale") { Description = "Learning rate of the encoder's ResNet as a fraction of the head's", DefaultValueFactory = _ => 1.0 };
        var command = new Command("train", "Train a few-shot segmenter on superpixel pseudo-labels (no arguments: a short demo on synthetic phantoms)")
            { data, superpixels, head, setting, fold, testClasses, iterations, size, depth, width, seed, threads, checkpoints, every, snapshotEvery, resume, init, stopAfter, device,
              alpWindows, japcForm, japcCalib, styleStream, raterScale, dplLoss, dplLambda, dplDiffGradient, dplNoise, dplStatistics, dplTarget, dplBeta, dplOptimizer, dplInjection, dplLr,
              encoder, freezeBn, encoderLrScale };
        var datasetChoice = DatasetOption.Create();
        command.Options.Add(datasetChoice);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                if (parse.GetValue(every) < 1) throw new ArgumentException($"--checkpoint-every {parse.GetValue(every)}: must be at least 1");
                if (parse.GetValue(snapshotEvery) is int snap && snap < 1) throw new ArgumentException($"--snapshot-every {snap}: must be at least 1");
                var dataDir = parse.GetValue(data);
                if (dataDir == null && parse.GetValue(resume) == null) return Demo(Accelerators.Select(parse.GetValue(device)!, parse.GetValue(threads)), output, error);
                if (dataDir == null) throw new ArgumentException("--data is required with --resume");
                var dataset = DatasetOption.Resolve(parse.GetValue(datasetChoice), dataDir, output);
                var config = new TrainConfig
                {
                    Data = dataDir,
                    Dataset = dataset,
                    Superpixels = parse.GetValue(superpixels),
                    Head = parse.GetValue(head)!,
                    Setting = parse.GetValue(setting),
                    Fold = parse.GetValue(fold),
                    LabelSet = LabelSet(dataset, parse.GetValue(testClasses)),
                    Iterations = parse.GetValue(iterations),
                    InputSize = parse.GetValue(size),
                    Depth = ParseDepth(parse.GetValue(depth)!),
                    Width = parse.GetValue(width),
                    Seed = parse.GetValue(seed),
                    AlpWindows = AlpWindows(parse.GetValue(alpWindows)!),
                    JapcForm = parse.GetValue(japcForm)!,
                    JapcCalib = parse.GetValue(japcCalib)!,
                    StyleStream = parse.GetValue(styleStream)!,
                    RaterScale = parse.GetValue(raterScale)!,
                    DplLoss = parse.GetValue(dplLoss)!,
                    DplLambda = parse.GetValue(dplLambda),
                    DplDiffGradient = parse.GetValue(dplDiffGradient)!,
                    DplNoise = parse.GetValue(dplNoise)!,
                    DplStatistics = parse.GetValue(dplStatistics)!,
                    DplTarget = parse.GetValue(dplTarget)!,
                    DplBeta = parse.GetValue(dplBeta),
                    DplOptimizer = parse.GetValue(dplOptimizer)!,
                    DplInjection = parse.GetValue(dplInjection)!,
                    DplLr = parse.GetValue(dplLr) ?? TrainConfig.DefaultDplLr(parse.GetValue(dplOptimizer)!),
                    Init = parse.GetValue(init),
                    Encoder = parse.GetValue(encoder)!,
                    FreezeBatchNorm = parse.GetValue(freezeBn),
                    EncoderLrScale = parse.GetValue(encoderLrScale),
                };
                if (config.Encoder == ImageNetResNet18.EncoderName)
                {
                    if (parse.GetResult(depth) is { Implicit: false } || parse.GetResult(width) is { Implicit: false })
                        throw new ArgumentException($"--encoder {ImageNetResNet18.EncoderName}: its shape is fixed (BasicBlocks 2,2,2,3, width 1); leave out --depth and --width");
                    config = config with { Depth = ImageNetResNet18.Config.Layers, Width = ImageNetResNet18.Config.Width };
                }
                Validate(config);
                if (parse.GetValue(stopAfter) is int stop && stop < 1) throw new ArgumentException($"--stop-after {stop}: must be at least 1");
                var result = Trainer.Run(config, parse.GetValue(checkpoints)!, parse.GetValue(every), parse.GetValue(resume),
                    Accelerators.Select(parse.GetValue(device)!, parse.GetValue(threads)), output, error, parse.GetValue(stopAfter), parse.GetValue(snapshotEvery));
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

    /// <summary>The dataset's label set from the unseen classes (CHAOS: RK,LK or 2,3 → 0; LIVER,SPLEEN or 1,4 → 1).</summary>
    private static int LabelSet(DatasetInfo dataset, string? classes)
    {
        try { return dataset.LabelSetOf(classes); }
        catch (ArgumentException e) { throw new ArgumentException($"--test-classes: {e.Message}"); }
    }

    /// <summary>"train,test,check" as three positive window sizes.</summary>
    public static int[] AlpWindows(string windows)
    {
        var parts = windows.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || parts.Any(p => !int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 1))
            throw new ArgumentException($"--alp-windows: '{windows}' must be three positive sizes train,test,fg-check, e.g. 4,2,4");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    private static int[] ParseDepth(string depth)
    {
        var parts = depth.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4 || parts.Any(p => !int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < 1))
            throw new ArgumentException($"--depth: '{depth}' must be four positive block counts, e.g. 3,4,23,3");
        return parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    internal static void Validate(TrainConfig config)
    {
        if (!Directory.Exists(config.Data)) throw new ArgumentException($"--data: folder '{config.Data}' does not exist");
        if (config.Head is not ("alp" or "dpl" or "japc" or "dpl+japc")) throw new ArgumentException($"--head: unknown head '{config.Head}' (alp, dpl, japc or dpl+japc)");
        try { _ = config.Japc; _ = config.Dpl; _ = config.AdamForDpl; _ = config.OwnStyleStream; _ = config.CellScaleRaters; }
        catch (ArgumentException e) { throw new ArgumentException($"--japc-*/--dpl-*/--style-stream/--rater-scale: {e.Message}"); }
        try { _ = config.ResNet; }
        catch (ArgumentException e) { throw new ArgumentException($"--encoder: {e.Message}"); }
        if (!(config.EncoderLrScale >= 0 && double.IsFinite(config.EncoderLrScale)))
            throw new ArgumentException($"--encoder-lr-scale: {config.EncoderLrScale} must be a finite number ≥ 0");
        if (!(config.DplLr >= 0 && double.IsFinite(config.DplLr))) throw new ArgumentException($"--dpl-lr: {config.DplLr} must be a finite number ≥ 0");
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
        var (protocol, folder, evaluation) = FoldEvaluation.Run(runner, config, dir, 0, acc);
        var table = FoldEvaluation.WriteOutputs(runner, config, protocol, folder, evaluation, Path.Combine(checkpoints, "eval"), acc);
        output.WriteLine("Dice on the unseen classes (fold 0, trained on liver and spleen episodes only):");
        output.Write(table);
        output.WriteLine($"run folder {checkpoints}; see it with: ilgpuseg report {checkpoints}");
        return 0;
    }
}
