using System.Globalization;
using IlgpuSeg.Autograd;
using IlgpuSeg.Cli.Reports;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Data.Preprocessing;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Training;

/// <summary>A NaN or infinite loss; the message names the iteration.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>A resume checkpoint that belongs to another run.</summary>
public sealed class ResumeMismatchException(string message) : Exception(message);

/// <summary>What a training run did.</summary>
public sealed record TrainResult(int Iterations, int Skipped, double MeanLastLoss, string CheckpointPath);

/// <summary>
/// Self-supervised episodic training (SSL-ALPNet): one episode per iteration, support and query in one
/// batch-norm batch, SGD with step decay. Every random draw comes from two explicit generators (model: init
/// and dropout; episodes: sampling and augmentation) whose counters go into each checkpoint, so a resumed
/// run continues bit for bit.
/// </summary>
public static class Trainer
{
    public const string CheckpointName = "checkpoint.safetensors";
    public const string MetricsName = "metrics.csv";

    /// <summary>The checkpoint kept at an iteration by <c>--snapshot-every</c> (a full checkpoint: it evaluates and resumes like the latest).</summary>
    public static string SnapshotName(int iteration) => $"checkpoint-{iteration:D6}.safetensors";

    /// <summary>The three generators of a run, seeded apart: model (init, dropout), episodes (sampling, augmentation), head noise (DPL).</summary>
    public static (Generator Model, Generator Episodes, Generator Noise) Generators(ulong seed) =>
        (new Generator(seed), new Generator(seed ^ 0x9E3779B97F4A7C15UL), new Generator(seed ^ 0xD1B54A32D192ED03UL));

    /// <summary>JAPC's pseudo-style generator, apart from the episodes so a JAPC run sees the episodes of the ALP run with its seed.</summary>
    public static Generator StyleGenerator(ulong seed) => new(seed ^ 0x94D049BB133111EBUL);

    /// <summary>The fixed raters of supervised multi-rater episodes and evaluation: at the feature-cell scale or the first 1–2 px styles.</summary>
    public static IReadOnlyList<RaterStyle> SimulatedRatersFor(TrainConfig config, int sliceSize) =>
        config.CellScaleRaters ? SimulatedRaters.FeatureScale(FeatureCell.Pixels(sliceSize, config.InputSize)) : SimulatedRaters.Default;

    /// <summary>The head a checkpoint holds, with its weights loaded (strict), for evaluation and inference.</summary>
    public static HeadRunner LoadRunner(Checkpoint checkpoint, Accelerator acc)
    {
        var (model, _, noise) = Generators(checkpoint.Config.Seed);
        var runner = HeadRunner.Create(checkpoint.Config, model, noise, acc);
        runner.Model.LoadStateDict(checkpoint.Model, strict: true);
        return runner;
    }

    /// <summary>Raters per episode: JAPC trains with the pseudo-label plus two pseudo-styled raters (METHODS §4).</summary>
    public static int RatersFor(TrainConfig config) => config.Head is "japc" or "dpl+japc" ? 3 : 1;

    /// <summary>
    /// Trains to <c>config.Iterations</c>, or stops after iteration <paramref name="stopAfter"/> with a checkpoint there
    /// (a planned interruption: the schedules still follow <c>config.Iterations</c>, and <c>--resume</c> continues).
    /// </summary>
    public static TrainResult Run(TrainConfig config, string checkpointDir, int checkpointEvery, string? resumePath, Accelerator acc, TextWriter log, TextWriter progressOutput,
        int? stopAfter = null, int? snapshotEvery = null)
    {
        if (config.Init != null) config = config with { InitSha256 = InitSha256(config.Init) };
        var checkpoint = resumePath == null ? null : Checkpoint.Load(resumePath);
        var dataset = config.Dataset;
        var pids = PatientIds.InFolder(config.Data);
        DatasetCheck.Folder(dataset, config.Data, pids.Length, training: true);
        var fold = ProtocolFold.Create(dataset, pids, config.Fold, config.LabelSet, config.ProtocolSetting);
        if (dataset.Modality == Modality.Ct)
        {
            config = config with { Intensity = ScanFolder.PooledStatistics(config.Data, fold.Fold.TrainPids) };
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CT: z-scoring every scan with the training fold's mean {config.Intensity.Value.Mean:G6} and std {config.Intensity.Value.Std:G6} (PROTOCOL §1.4)"));
        }
        if (checkpoint != null && !checkpoint.Config.SameRunAs(config))
            throw new ResumeMismatchException($"{resumePath}: was written by a different configuration ({checkpoint.Config.ToJson()})");
        var folder = ScanFolder.Load(config.Data, new ScanFolderOptions
        {
            Pids = fold.Fold.TrainPids,
            RequireSuperpixels = !config.SupervisedEpisodes,
            SuperpixelDirectory = config.Superpixels,
            Intensity = config.Intensity,
        });
        DatasetCheck.Labels(dataset, folder);
        int raters = RatersFor(config), sliceSize = folder.Scans[0].Image.Width;
        var styleGen = StyleGenerator(config.Seed);
        Func<Generator, Episode> nextEpisode = config.SupervisedEpisodes
            ? new LabelEpisodeSampler(folder.Scans, new LabelSamplerOptions
            {
                Classes = dataset.LabelGroups[config.LabelSet].ToArray(), ExcludedClasses = fold.ExcludedClasses,
                Raters = raters == 1 ? SimulatedRaters.Single : [RaterStyle.Identity, .. SimulatedRatersFor(config, sliceSize).Take(raters - 1)],
            }).Next
            : NextSuperpixelEpisode(new SuperpixelEpisodeSampler(folder.Scans, folder.ClassMap, new SuperpixelSamplerOptions
            {
                Dataset = dataset, ExcludedClasses = fold.ExcludedClasses, Raters = raters,
                PseudoStyles = config.CellScaleRaters ? PseudoStyleOptions.FeatureScale(FeatureCell.Pixels(sliceSize, config.InputSize)) : new(),
            }), config.OwnStyleStream ? styleGen : null);

        var (modelGen, episodeGen, noiseGen) = Generators(config.Seed);
        var runner = HeadRunner.Create(config, modelGen, noiseGen, acc);
        var model = runner.Model;
        var parameters = model.NamedParameters().ToList();
        // DPL's modules under Adam (METHODS §6: the denoiser must learn), the rest under SGD; the first form gives SGD all of them.
        bool adamForDpl = config.AdamForDpl && parameters.Any(p => TrainConfig.IsDplParameter(p.Name));
        var sgd = new Sgd(adamForDpl ? parameters.Where(p => !TrainConfig.IsDplParameter(p.Name)).ToList() : parameters, config.LearningRate, config.Momentum, config.WeightDecay)
        {
            LrScale = config.LrScale,
        };
        var adam = adamForDpl ? new Adam(parameters.Where(p => TrainConfig.IsDplParameter(p.Name)).ToList(), config.DplLr) : null;
        var decay = new StepDecay(config.LearningRate, config.Gamma, config.DecayEvery);
        var dplDecay = new StepDecay(config.DplLr, config.Gamma, config.DecayEvery);
        int start = 0, skipped = 0;
        if (checkpoint != null)
        {
            model.LoadStateDict(checkpoint.Model, strict: true);
            sgd.LoadStateDict(checkpoint.Optimizer.Where(kv => adam == null || !TrainConfig.IsDplParameter(kv.Key)).ToDictionary());
            adam?.LoadStateDict(checkpoint.Optimizer.Where(kv => TrainConfig.IsDplParameter(kv.Key)).ToDictionary());
            (modelGen.Counter, episodeGen.Counter, runner.NoiseCounter, styleGen.Counter, start, skipped) =
                (checkpoint.ModelCounter, checkpoint.EpisodeCounter, checkpoint.NoiseCounter, checkpoint.StyleCounter, checkpoint.Iteration, checkpoint.Skipped);
            log.WriteLine($"resuming from {resumePath} at iteration {start}");
        }
        else if (config.Init != null) LoadInit(model, config, log);
        else if (config.Encoder == Pretrained.ImageNetResNet18.EncoderName)
            runner.Encoder.Backbone.LoadStateDict(Pretrained.ImageNetResNet18.Backbone(log), strict: true);

        Directory.CreateDirectory(checkpointDir);
        var checkpointPath = Path.Combine(checkpointDir, CheckpointName);
        using var metrics = OpenMetrics(Path.Combine(checkpointDir, MetricsName), start);
        var watch = new RunWatch(config, checkpointDir, acc.ToString() ?? "", start, log);
        log.WriteLine($"training {config.Head} on {folder.Scans.Count} scans (fold {config.Fold}, setting {config.Setting}, test classes {string.Join(",", fold.TestClasses)}), "
            + $"{config.Encoder} {string.Join("-", config.Depth)} width {config.Width}, input {config.InputSize}², {parameters.Sum(p => (long)p.Parameter.Data.Count)} parameters, on {acc}");

        int end = Math.Min(config.Iterations, stopAfter ?? int.MaxValue);
        if (stopAfter is int stop && stop <= start)
            throw new ArgumentException($"--stop-after {stop}: nothing to train (the run is already at iteration {start} of {config.Iterations})");
        var progress = new ProgressLine(start, config.Iterations, progressOutput);
        var recent = new Queue<double>();
        model.Train();
        runner.Encoder.FreezeBatchNorm = config.FreezeBatchNorm;
        for (int it = start; it < end; it++)
        {
            using var stepScope = TensorScope.Open(); // the step's tensors go back to the pool at the end of each iteration
            sgd.LearningRate = decay.At(it);
            if (adam != null) adam.LearningRate = dplDecay.At(it);
            var episode = nextEpisode(episodeGen);
            var supportImage = EpisodeTensors.Image(episode.SupportImage, config.InputSize, acc);
            var queryImage = EpisodeTensors.Image(episode.QueryImage, config.InputSize, acc);
            var supportMasks = episode.SupportMasks.Select(m => EpisodeTensors.Mask(m, config.InputSize, acc)).ToArray();
            var queryMasks = episode.QueryMasks.Select(m => EpisodeTensors.Mask(m, config.InputSize, acc)).ToArray();
            var batch = new EpisodeBatch(supportImage, supportMasks, supportMasks.Select(EpisodeTensors.Label).ToArray(),
                queryImage, queryMasks.Select(EpisodeTensors.Label).ToArray());
            EpisodeLoss? loss = null;
            try
            {
                loss = runner.Loss(batch, it, config.Iterations);
            }
            catch (EmptyPrototypeSetException e)
            {
                // Counted and logged, never silently dropped: no update this iteration (as the reference skips the batch).
                Tape.Clear();
                skipped++;
                metrics.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{it + 1},,,,,,{sgd.LearningRate:G6},{skipped},,,,,skipped: {e.Message} (pid {episode.Info.Pid} slice {episode.Info.Slice})"));
                progress.Report(it, $"skipped {skipped}");
            }
            if (loss != null) Update(loss, it);
            bool snapshot = snapshotEvery is int n && (it + 1) % n == 0;
            if ((it + 1) % checkpointEvery == 0 || it + 1 == end || snapshot)
            {
                metrics.Flush();
                var state = new Checkpoint(config, it + 1, episodeGen.Counter, modelGen.Counter, runner.NoiseCounter, skipped,
                    model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value),
                    adam == null ? sgd.StateDict() : sgd.StateDict().Concat(adam.StateDict()).ToDictionary()) { StyleCounter = styleGen.Counter };
                state.Save(checkpointPath);
                if (snapshot) state.Save(Path.Combine(checkpointDir, SnapshotName(it + 1)));
                watch.Update(it + 1, skipped);
            }
        }

        if (skipped > 0) log.WriteLine($"{skipped} episode(s) skipped (no prototype could be built); see {MetricsName}");
        if (end < config.Iterations) log.WriteLine($"stopped after iteration {end} of {config.Iterations}; continue with --resume {checkpointPath}");
        return new TrainResult(Math.Max(end, start), skipped, recent.Count == 0 ? double.NaN : recent.Average(), checkpointPath);

        // One SGD step on an episode's loss, with its metrics row and progress line; a NaN or Inf loss stops the run.
        void Update(EpisodeLoss loss, int it)
        {
            double total = loss.Total.Item();
            if (!double.IsFinite(total))
                throw new TrainingDivergedException($"loss is {total} at iteration {it + 1} (query {loss.Query}, align {loss.Align}); stopping. Last checkpoint: {checkpointPath}");
            loss.Total.Backward();
            sgd.Step();
            adam?.Step();
            sgd.ZeroGrad();
            adam?.ZeroGrad();
            recent.Enqueue(total);
            if (recent.Count > 50) recent.Dequeue();
            metrics.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{it + 1},{total:G6},{loss.Query:G6},{loss.Align:G6},{loss.Diff ?? 0:G6},{loss.Calib:G6},{sgd.LearningRate:G6},{skipped},"
                + $"{loss.Equation15:G6},{loss.DiffStep},{loss.NoisedDistance:G6},{loss.DenoisedDistance:G6},"));
            progress.Report(it, string.Create(CultureInfo.InvariantCulture, $"loss {total:F4} (query {loss.Query:F4}, align {loss.Align:F4}{(loss.Diff is double d ? $", diff {d:F4}" : "")}{(loss.Calib != 0 ? $", calib {loss.Calib:F4}" : "")}) skipped {skipped}"));
        }
    }

    /// <summary>
    /// <c>--init</c>: every tensor of the init checkpoint that this run's model has (the encoder must be complete and
    /// every shape must fit); the model's other tensors (a head the init run did not have) keep their fresh values.
    /// </summary>
    private static void LoadInit(Module model, TrainConfig config, TextWriter log)
    {
        var init = Checkpoint.Load(config.Init!);
        var report = model.LoadStateDict(init.Model, strict: false);
        var missingEncoder = report.Missing.Where(k => k.StartsWith("encoder.", StringComparison.Ordinal)).ToList();
        if (report.ShapeMismatches.Count > 0 || missingEncoder.Count > 0)
            throw new StateDictMismatchException($"{config.Init}: does not fit this run's model: {report}");
        log.WriteLine($"initialised from {config.Init} (sha256 {config.InitSha256}, {init.Config.Head} after {init.Iteration} iterations): "
            + $"{init.Model.Count - report.Unexpected.Count} tensors loaded, {report.Missing.Count} fresh, {report.Unexpected.Count} ignored; fresh optimiser and schedules");
    }

    /// <summary>SHA-256 of an --init checkpoint (hex), as recorded in the run's config and in sweep run ids.</summary>
    public static string InitSha256(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"--init: file '{path}' does not exist");
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>Superpixel episodes with pseudo-styles from <paramref name="styles"/>, or from the episode generator when null (the first form).</summary>
    private static Func<Generator, Episode> NextSuperpixelEpisode(SuperpixelEpisodeSampler sampler, Generator? styles) =>
        episodes => sampler.Next(episodes, styles ?? episodes);

    /// <summary>The metrics CSV, keeping rows before <paramref name="start"/> when resuming so no iteration appears twice.</summary>
    private static StreamWriter OpenMetrics(string path, int start)
    {
        // DPL's columns: eq. 15 (when a term), the step of L_diff, and the mean squared distance to p0 of the noised and denoised prototypes.
        const string header = "iteration,loss,query_loss,align_loss,diff_loss,calib_loss,lr,skipped,eq15_loss,diff_t,noised_dist,denoised_dist,note";
        var kept = start > 0 && File.Exists(path)
            ? File.ReadLines(path).Skip(1).Where(l => int.Parse(l.AsSpan(0, l.IndexOf(',')), CultureInfo.InvariantCulture) <= start).ToList()
            : [];
        var writer = new StreamWriter(path, append: false);
        writer.WriteLine(header);
        foreach (var line in kept) writer.WriteLine(line);
        return writer;
    }
}
