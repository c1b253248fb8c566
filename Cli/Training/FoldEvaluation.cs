using System.Globalization;
using System.Text;
using IlgpuSeg.Autograd;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Training;

/// <summary>Runs the evaluation protocol (PROTOCOL §6) of a fold with a trained segmenter and writes its tables.</summary>
public static class FoldEvaluation
{
    public static EvaluationResult Run(AlpSegmenter model, TrainConfig config, string dataDir, int fold, Accelerator acc)
    {
        var protocol = ProtocolFold.Create(DatasetInfo.Chaos, PatientIds.InFolder(dataDir), fold, config.LabelSet, config.ProtocolSetting);
        var folder = ScanFolder.Load(dataDir, new ScanFolderOptions { Pids = protocol.Fold.QueryPids.Concat(protocol.Fold.SupportPids).ToArray() });
        model.Eval();
        Slice2D<float> Predict(Slice2D<float> supportImage, Slice2D<byte> supportMask, Slice2D<float> queryImage)
        {
            using var _ = Tape.NoGrad();
            var logits = model.Predict(EpisodeTensors.Image(supportImage, config.InputSize, acc), EpisodeTensors.Mask(supportMask, config.InputSize, acc),
                EpisodeTensors.Image(queryImage, config.InputSize, acc)).Data;
            var fg = Ops.Softmax(logits, 1).Narrow(1, 1, 1);
            if (queryImage.Height != config.InputSize || queryImage.Width != config.InputSize)
                fg = Ops.ResizeBilinear(fg.Contiguous(), queryImage.Height, queryImage.Width, alignCorners: false);
            return new Slice2D<float>(queryImage.Height, queryImage.Width, fg.Contiguous().ToArray<float>());
        }
        return FewShotEvaluator.Evaluate(folder.Get(protocol.Fold.SupportPids[0]), protocol.Fold.QueryPids.Select(folder.Get).ToArray(), protocol.TestClasses, Predict);
    }

    /// <summary>Per-scan rows as CSV: pid, class, dice, precision, recall, scored z-range.</summary>
    public static string Csv(EvaluationResult result)
    {
        var sb = new StringBuilder("pid,class,rater,dice,precision,recall,z_min,z_max\n");
        foreach (var s in result.Scores)
            sb.Append(CultureInfo.InvariantCulture, $"{s.Pid},{DatasetInfo.Chaos.NameOf(s.ClassId)},{s.Rater},{s.Dice:F4},{s.Precision:F4},{s.Recall:F4},{s.ZMin},{s.ZMax}\n");
        return sb.ToString();
    }

    /// <summary>A Markdown table: one row per class (mean ± std Dice over scans), then the mean over classes.</summary>
    public static string Markdown(EvaluationResult result)
    {
        var sb = new StringBuilder("| class | Dice (mean ± std over scans) | precision | recall |\n|---|---:|---:|---:|\n");
        foreach (var c in result.Classes)
            sb.Append(CultureInfo.InvariantCulture, $"| {c.Name} | {100 * c.MeanDice:F2} ± {100 * c.StdDice:F2} | {100 * c.MeanPrecision:F2} | {100 * c.MeanRecall:F2} |\n");
        sb.Append(CultureInfo.InvariantCulture, $"| mean | {100 * result.MeanDice:F2} | | |\n");
        return sb.ToString();
    }
}
