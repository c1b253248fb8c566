using System.Globalization;
using System.Text;
using IlgpuSeg.Autograd;
using IlgpuSeg.Cli.Reports;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Training;

/// <summary>Runs the evaluation protocol (PROTOCOL §6) of a fold with a trained segmenter and writes its tables.</summary>
public static class FoldEvaluation
{
    /// <summary>
    /// Foreground probability of a query slice per rater, 1-shot from a support slice and each rater's mask (eval mode, no tape).
    /// With a <paramref name="threshold"/> T the map is 0/1 instead: foreground where P(fg) ≥ T (without one the evaluation's
    /// P(fg) &gt; ½, the two-class argmax).
    /// </summary>
    public static IReadOnlyList<Slice2D<float>> PredictSlice(HeadRunner runner, int inputSize, Accelerator acc, Slice2D<float> supportImage,
        IReadOnlyList<Slice2D<byte>> supportMasks, Slice2D<float> queryImage, double? threshold = null)
    {
        using var _ = Tape.NoGrad();
        using var scope = TensorScope.Open();
        var probabilities = runner.Probabilities(EpisodeTensors.Image(supportImage, inputSize, acc),
            supportMasks.Select(m => EpisodeTensors.Mask(m, inputSize, acc)).ToArray(), EpisodeTensors.Image(queryImage, inputSize, acc));
        return probabilities.Select(fg =>
        {
            if (queryImage.Height != inputSize || queryImage.Width != inputSize)
                fg = Ops.ResizeBilinear(fg, queryImage.Height, queryImage.Width, alignCorners: false);
            var values = fg.ToArray<float>();
            return new Slice2D<float>(queryImage.Height, queryImage.Width, threshold is double t ? Array.ConvertAll(values, p => p >= t ? 1f : 0f) : values);
        }).ToArray();
    }

    /// <summary>
    /// The protocol's fold, its scans, and the evaluation on it: one rater (the ground truth), or the simulated
    /// raters of METHODS §4/§6 at the config's rater scale (per-rater Dice; each head predicts from each rater's support mask). With
    /// <paramref name="predictions"/> every predicted slice is also collected there. <paramref name="supportPid"/> replaces the
    /// fold's support scan by another of its unseen scans (the others are the queries, PROTOCOL §6.2); <paramref name="threshold"/>
    /// as in <see cref="PredictSlice"/>.
    /// </summary>
    public static (ProtocolFold Protocol, ScanFolder Folder, EvaluationResult Result) Run(HeadRunner runner, TrainConfig config, string dataDir, int fold,
        Accelerator acc, bool simulatedRaters = false, PredictionVolumes? predictions = null, int? supportPid = null, double? threshold = null)
    {
        var (protocol, folder) = Load(config, dataDir, fold);
        if (supportPid is int pid) protocol = WithSupport(protocol, pid);
        return (protocol, folder, Evaluate(runner, config, protocol, folder, acc, simulatedRaters, predictions, threshold));
    }

    /// <summary>
    /// Support rotation (PROTOCOL §6.2, METHODS §7.3): each of the fold's unseen scans in turn is the support, scored on
    /// the others. The first entry is the fold's own support (as <see cref="Run"/> without a support pid).
    /// </summary>
    public static (ProtocolFold Protocol, ScanFolder Folder, IReadOnlyList<(int Support, EvaluationResult Result)> Results) RunAllSupports(HeadRunner runner, TrainConfig config,
        string dataDir, int fold, Accelerator acc, bool simulatedRaters = false, double? threshold = null)
    {
        var (protocol, folder) = Load(config, dataDir, fold);
        var results = UnseenPids(protocol).OrderBy(p => p == protocol.Fold.SupportPids[0] ? 0 : 1)
            .Select(pid => (pid, Evaluate(runner, config, WithSupport(protocol, pid), folder, acc, simulatedRaters, null, threshold))).ToArray();
        return (protocol, folder, results);
    }

    /// <summary>The fold's unseen scans: its queries and its support, in pid order.</summary>
    public static int[] UnseenPids(ProtocolFold protocol) => protocol.Fold.QueryPids.Concat(protocol.Fold.SupportPids).Order().ToArray();

    /// <summary>The fold with <paramref name="pid"/> as its support and the other unseen scans as queries; a pid outside them is an error.</summary>
    public static ProtocolFold WithSupport(ProtocolFold protocol, int pid)
    {
        var unseen = UnseenPids(protocol);
        if (!unseen.Contains(pid))
            throw new ArgumentException($"--support-pid {pid}: not one of fold {protocol.Fold.Index}'s unseen scans ({string.Join(",", unseen)})");
        return protocol with { Fold = protocol.Fold with { SupportPids = [pid], QueryPids = unseen.Where(p => p != pid).ToArray() } };
    }

    private static (ProtocolFold Protocol, ScanFolder Folder) Load(TrainConfig config, string dataDir, int fold)
    {
        var pids = PatientIds.InFolder(dataDir);
        DatasetCheck.Folder(config.Dataset, dataDir, pids.Length, training: false);
        var protocol = ProtocolFold.Create(config.Dataset, pids, fold, config.LabelSet, config.ProtocolSetting);
        var folder = ScanFolder.Load(dataDir, new ScanFolderOptions { Pids = UnseenPids(protocol), Intensity = config.Intensity });
        DatasetCheck.Labels(config.Dataset, folder);
        return (protocol, folder);
    }

    private static EvaluationResult Evaluate(HeadRunner runner, TrainConfig config, ProtocolFold protocol, ScanFolder folder, Accelerator acc,
        bool simulatedRaters, PredictionVolumes? predictions, double? threshold)
    {
        runner.Model.Eval();
        var support = folder.Get(protocol.Fold.SupportPids[0]);
        var queries = protocol.Fold.QueryPids.Select(folder.Get).ToArray();
        var options = new EvaluationOptions { Dataset = config.Dataset, OnPrediction = predictions == null ? null : slice => predictions.Add(slice, folder.Get(slice.Pid)) };
        return simulatedRaters
            ? FewShotEvaluator.EvaluateRaters(support, queries, protocol.TestClasses, (s, m, q) => PredictSlice(runner, config.InputSize, acc, s, m, q, threshold),
                options with { Raters = Trainer.SimulatedRatersFor(config, support.Image.Width) })
            : FewShotEvaluator.Evaluate(support, queries, protocol.TestClasses, (s, m, q) => PredictSlice(runner, config.InputSize, acc, s, [m], q, threshold)[0], options);
    }

    /// <summary>Writes an evaluation's dice.csv, dice.md and overlay PNGs into <paramref name="outDir"/>; returns the Markdown table.</summary>
    public static string WriteOutputs(HeadRunner runner, TrainConfig config, ProtocolFold protocol, ScanFolder folder, EvaluationResult result, string outDir, Accelerator acc,
        double? threshold = null)
    {
        Directory.CreateDirectory(outDir);
        AtomicFile.Write(Path.Combine(outDir, "dice.csv"), Csv(result));
        var table = Markdown(result);
        AtomicFile.Write(Path.Combine(outDir, "dice.md"), table);
        WriteOverlays(runner, config, protocol, folder, outDir, acc, threshold);
        return table;
    }

    public const string SupportsCsvName = "dice_supports.csv", SupportsMarkdownName = "dice_supports.md";

    /// <summary>Writes a support rotation's dice_supports.csv and dice_supports.md into <paramref name="outDir"/>; returns the Markdown table.</summary>
    public static string WriteSupports(IReadOnlyList<(int Support, EvaluationResult Result)> results, string outDir)
    {
        Directory.CreateDirectory(outDir);
        AtomicFile.Write(Path.Combine(outDir, SupportsCsvName), SupportsCsv(results));
        var table = SupportsMarkdown(results);
        AtomicFile.Write(Path.Combine(outDir, SupportsMarkdownName), table);
        return table;
    }

    /// <summary>Per-scan rows of every support in a rotation: the support's pid, then the columns of <see cref="Csv"/>.</summary>
    public static string SupportsCsv(IReadOnlyList<(int Support, EvaluationResult Result)> results)
    {
        var sb = new StringBuilder("support,pid,class,rater,dice,precision,recall,z_min,z_max\n");
        foreach (var (support, result) in results)
            foreach (var line in Csv(result).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
                sb.Append(CultureInfo.InvariantCulture, $"{support},{line}\n");
        return sb.ToString();
    }

    /// <summary>A Markdown table: one row per support (each class's mean Dice over its queries, and their mean), then the mean over supports.</summary>
    public static string SupportsMarkdown(IReadOnlyList<(int Support, EvaluationResult Result)> results)
    {
        var classes = results[0].Result.Classes;
        static string Percent(double dice) => (100 * dice).ToString("F2", CultureInfo.InvariantCulture);
        var sb = new StringBuilder("| support | ").Append(string.Join(" | ", classes.Select(c => c.Name))).Append(" | mean |\n|---|")
            .Append(string.Concat(classes.Select(_ => "---:|"))).Append("---:|\n");
        foreach (var (support, result) in results)
            sb.Append(CultureInfo.InvariantCulture, $"| {support} | {string.Join(" | ", result.Classes.Select(c => Percent(c.MeanDice)))} | {Percent(result.MeanDice)} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| mean over {results.Count} supports | {string.Join(" | ", classes.Select((_, c) => Percent(results.Average(r => r.Result.Classes[c].MeanDice))))} | "
            + $"{Percent(results.Average(r => r.Result.MeanDice))} |\n");
        return sb.ToString();
    }

    public const string JapcSpreadName = "japc_spread.csv";

    /// <summary>One support slice's background prototypes (rater 0): their count and spread before and after JAPC calibration.</summary>
    public sealed record SpreadRow(string Class, int SupportSlice, int Count, double Before, double After);

    /// <summary>
    /// JAPC's background spread (issue 16) on the fold's support slices (the protocol's 3 per test class, simulated raters
    /// at the config's scale, each paired with the middle slice of the first query scan's class range as the query).
    /// Null for heads without calibration.
    /// </summary>
    public static IReadOnlyList<SpreadRow>? JapcSpread(HeadRunner runner, TrainConfig config, ProtocolFold protocol, ScanFolder folder, Accelerator acc)
    {
        using var _ = Tape.NoGrad();
        runner.Model.Eval();
        var support = folder.Get(protocol.Fold.SupportPids[0]);
        var query = folder.Get(protocol.Fold.QueryPids[0]);
        var raters = Trainer.SimulatedRatersFor(config, support.Image.Width);
        var rows = new List<SpreadRow>();
        foreach (var c in protocol.TestClasses)
        {
            var querySlices = query.SlicesWith(c);
            var queryImage = EpisodeTensors.Image(query.Image.Slice(querySlices[querySlices.Length / 2]), config.InputSize, acc);
            foreach (var z in SupportSlices.Pick(support.SlicesWith(c), 3))
            {
                var mask = Binary(support.Label.Slice(z), c);
                var spread = runner.BackgroundSpread(EpisodeTensors.Image(support.Image.Slice(z), config.InputSize, acc),
                    raters.Select(r => EpisodeTensors.Mask(r.Apply(mask), config.InputSize, acc)).ToArray(), queryImage);
                if (spread is not var (count, before, after)) return null;
                rows.Add(new SpreadRow(protocol.Dataset.NameOf(c), z, count, before, after));
            }
        }
        return rows;
    }

    /// <summary><see cref="JapcSpreadName"/>'s content: class, support slice, count, spread before and after calibration.</summary>
    public static string JapcSpreadCsv(IReadOnlyList<SpreadRow> rows)
    {
        var sb = new StringBuilder("class,support_slice,bg_prototypes,spread_before,spread_after\n");
        foreach (var r in rows) sb.Append(CultureInfo.InvariantCulture, $"{r.Class},{r.SupportSlice},{r.Count},{r.Before:G6},{r.After:G6}\n");
        return sb.ToString();
    }

    /// <summary>DPL's uncertainty of a query slice on the query's grid (null for heads without one), 1-shot from a support slice and mask.</summary>
    public static Slice2D<float>? UncertaintySlice(HeadRunner runner, int inputSize, Accelerator acc, Slice2D<float> supportImage, Slice2D<byte> supportMask,
        Slice2D<float> queryImage)
    {
        using var _ = Tape.NoGrad();
        using var scope = TensorScope.Open();
        var u = runner.Uncertainty(EpisodeTensors.Image(supportImage, inputSize, acc), EpisodeTensors.Mask(supportMask, inputSize, acc),
            EpisodeTensors.Image(queryImage, inputSize, acc));
        if (u == null) return null;
        if (queryImage.Height != inputSize || queryImage.Width != inputSize)
            u = Ops.ResizeBilinear(u, queryImage.Height, queryImage.Width, alignCorners: false);
        return new Slice2D<float>(queryImage.Height, queryImage.Width, u.ToArray<float>());
    }

    /// <summary>
    /// Overlay PNGs per query scan and class: the middle ground-truth slice, predicted 1-shot from the support scan's
    /// middle labelled slice (red: prediction contour, green: ground-truth contour), plus the support slice with its
    /// mask. DPL adds the uncertainty heat map of each query slice; multi-rater heads (JAPC) add each simulated
    /// rater's prediction side by side.
    /// </summary>
    public static void WriteOverlays(HeadRunner runner, TrainConfig config, ProtocolFold protocol, ScanFolder folder, string outDir, Accelerator acc, double? threshold = null)
    {
        var support = folder.Get(protocol.Fold.SupportPids[0]);
        var raters = Trainer.RatersFor(config) > 1 ? SimulatedRaters.Default : null;
        foreach (var c in protocol.TestClasses)
        {
            var name = protocol.Dataset.NameOf(c);
            var supportSlices = support.SlicesWith(c);
            int sz = supportSlices[supportSlices.Length / 2];
            var supportImage = support.Image.Slice(sz);
            var supportMask = Binary(support.Label.Slice(sz), c);
            Write(Path.Combine(outDir, $"support_{support.Pid}_{name}_z{sz}.png"), OverlayImage.Render(supportImage, null, supportMask));
            foreach (var pid in protocol.Fold.QueryPids)
            {
                var query = folder.Get(pid);
                var slices = query.SlicesWith(c);
                int qz = slices[slices.Length / 2];
                var queryImage = query.Image.Slice(qz);
                var truth = Binary(query.Label.Slice(qz), c);
                var probability = PredictSlice(runner, config.InputSize, acc, supportImage, [supportMask], queryImage, threshold)[0];
                Write(Path.Combine(outDir, $"query_{pid}_{name}_z{qz}.png"), OverlayImage.Render(queryImage, Threshold(probability), truth));
                if (UncertaintySlice(runner, config.InputSize, acc, supportImage, supportMask, queryImage) is { } uncertainty)
                    AtomicFile.Write(Path.Combine(outDir, $"uncertainty_{pid}_{name}_z{qz}.png"), UncertaintyPlot.Png(uncertainty, $"DPL uncertainty, scan {pid} {name} z{qz}"));
                if (raters != null)
                {
                    var perRater = PredictSlice(runner, config.InputSize, acc, supportImage, raters.Select(r => r.Apply(supportMask)).ToArray(), queryImage, threshold);
                    var panels = perRater.Select((p, r) => OverlayImage.Render(queryImage, Threshold(p), raters[r].Apply(truth))).ToArray();
                    Write(Path.Combine(outDir, $"raters_{pid}_{name}_z{qz}.png"), OverlayImage.SideBySide(panels));
                    foreach (var panel in panels) panel.Dispose();
                }
            }
        }
    }

    private static Slice2D<byte> Threshold(Slice2D<float> probability) =>
        new(probability.Height, probability.Width, Array.ConvertAll(probability.Data, p => p > 0.5f ? (byte)1 : (byte)0));

    private static Slice2D<byte> Binary(Slice2D<int> label, int c) =>
        new(label.Height, label.Width, Array.ConvertAll(label.Data, v => v == c ? (byte)1 : (byte)0));

    private static void Write(string path, SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24> image)
    {
        using (image) AtomicFile.Write(path, OverlayImage.Png(image));
    }

    /// <summary>Per-scan rows as CSV: pid, class, dice, precision, recall, scored z-range.</summary>
    public static string Csv(EvaluationResult result)
    {
        var sb = new StringBuilder("pid,class,rater,dice,precision,recall,z_min,z_max\n");
        foreach (var s in result.Scores)
            sb.Append(CultureInfo.InvariantCulture, $"{s.Pid},{result.Dataset.NameOf(s.ClassId)},{s.Rater},{s.Dice:F4},{s.Precision:F4},{s.Recall:F4},{s.ZMin},{s.ZMax}\n");
        return sb.ToString();
    }

    /// <summary>
    /// A Markdown table: one row per class (mean ± std Dice over scans), then the mean over classes; with several
    /// raters also one column per rater (that rater's Dice, mean over scans).
    /// </summary>
    public static string Markdown(EvaluationResult result)
    {
        var raters = Enumerable.Range(0, result.Raters > 1 ? result.Raters : 0).ToArray();
        var sb = new StringBuilder("| class | Dice (mean ± std over scans) | precision | recall |");
        foreach (var r in raters) sb.Append(CultureInfo.InvariantCulture, $" rater {r + 1} |");
        sb.Append("\n|---|---:|---:|---:|").Append(string.Concat(raters.Select(_ => "---:|"))).Append('\n');
        foreach (var c in result.Classes)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {c.Name} | {100 * c.MeanDice:F2} ± {100 * c.StdDice:F2} | {100 * c.MeanPrecision:F2} | {100 * c.MeanRecall:F2} |");
            foreach (var r in raters)
                sb.Append(CultureInfo.InvariantCulture, $" {100 * result.Scores.Where(s => s.ClassId == c.ClassId && s.Rater == r).Average(s => s.Dice):F2} |");
            sb.Append('\n');
        }
        sb.Append(CultureInfo.InvariantCulture, $"| mean | {100 * result.MeanDice:F2} | | |");
        foreach (var r in raters) sb.Append(CultureInfo.InvariantCulture, $" {100 * result.RaterMeanDice[r]:F2} |");
        return sb.Append('\n').ToString();
    }
}
