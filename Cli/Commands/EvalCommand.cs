using System.CommandLine;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg eval --checkpoint C [--data D] [--fold F] --out DIR</c>: the evaluation protocol on a fold with a
/// trained checkpoint; writes dice.csv (per scan), dice.md (per class and mean) and overlay PNGs.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A training checkpoint (checkpoint.safetensors)", Required = true };
        var data = new Option<string?>("--data") { Description = "Data folder (default: the one the checkpoint was trained on)" };
        var fold = new Option<int?>("--fold") { Description = "Fold (default: the training fold)" };
        var output = new Option<string>("--out") { Description = "Output folder", DefaultValueFactory = _ => "eval" };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount };
        var raters = new Option<bool>("--simulated-raters") { Description = "Score per rater against the simulated raters of METHODS §4 (dilated, eroded, shifted labels)" };
        var savePredictions = new Option<bool>("--save-predictions") { Description = "Also write each query's predicted masks (and DPL's uncertainty) as NIfTI on the query's grid" };
        var head = new Option<string?>("--head") { Description = "alp: evaluate the checkpoint's encoder with the plain ALPNet head, ignoring its DPL/JAPC weights (an ablation)" };
        var alpWindows = new Option<string?>("--alp-windows") { Description = "ALP pooling windows train,test,fg-check (default: the checkpoint's)" };
        var supportPid = new Option<int?>("--support-pid") { Description = "Support scan: another of the fold's unseen scans (the others are the queries; default: the fold's support)" };
        var allSupports = new Option<bool>("--all-supports") { Description = "Rotate the support over the fold's unseen scans, each scored on the others; writes dice_supports.csv/.md as well (dice.csv: the fold's support)" };
        var threshold = new Option<double?>("--threshold") { Description = "Foreground where P(fg) ≥ T (default: the argmax, P(fg) > 0.5)" };
        var dplStart = new Option<int?>("--dpl-start") { Description = "DPL: the reverse chain's start step t* (default: the checkpoint's, 10), e.g. to score a first-form checkpoint per training step" };
        var japcSpread = new Option<bool>("--japc-spread") { Description = "JAPC: also write japc_spread.csv, the spread of rater 0's background prototypes before and after calibration on the support slices" };
        var dplVariants = new Option<int?>("--dpl-variants") { Description = "DPL: the K averaged variants (default: the checkpoint's, 4; 1 as first-form training)" };
        var command = new Command("eval", "Evaluate a checkpoint with the few-shot protocol (support slices, query chunks, 3D Dice per scan)")
            { checkpoint, data, fold, output, threads, raters, head, alpWindows, savePredictions, supportPid, allSupports, threshold, dplStart, dplVariants, japcSpread };
        var datasetChoice = DatasetOption.Create();
        command.Options.Add(datasetChoice);
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            try
            {
                var ck = Checkpoint.Load(parse.GetValue(checkpoint)!);
                var acc = Context.Default.CreateCpuAccelerator(parse.GetValue(threads));
                var asHead = parse.GetValue(head);
                if (asHead is not (null or "alp")) throw new ArgumentException($"--head: '{asHead}' (only alp: a checkpoint's encoder under the plain baseline head)");
                if (asHead != null)
                {
                    int ignored = ck.Model.Keys.Count(k => !k.StartsWith("encoder.", StringComparison.Ordinal));
                    stdout.WriteLine($"evaluating the {ck.Config.Head} checkpoint's encoder with the alp head ({ignored} head tensors ignored)");
                    ck = ck with { Config = ck.Config with { Head = asHead }, Model = ck.Model.Where(kv => kv.Key.StartsWith("encoder.", StringComparison.Ordinal)).ToDictionary() };
                }
                if (parse.GetValue(alpWindows) is { } windows) ck = ck with { Config = ck.Config with { AlpWindows = TrainCommand.AlpWindows(windows) } };
                if (parse.GetValue(dplStart) != null || parse.GetValue(dplVariants) != null)
                {
                    if (ck.Config.Head is not ("dpl" or "dpl+japc")) throw new ArgumentException($"--dpl-start/--dpl-variants: the checkpoint's head {ck.Config.Head} has no DPL");
                    ck = ck with { Config = ck.Config with { DplStart = parse.GetValue(dplStart) ?? ck.Config.DplStart, DplVariants = parse.GetValue(dplVariants) ?? ck.Config.DplVariants } };
                    try { _ = ck.Config.Dpl; }
                    catch (ArgumentException e) { throw new ArgumentException($"--dpl-start/--dpl-variants: {e.Message}"); }
                }
                var runner = Trainer.LoadRunner(ck, acc);
                var dataDir = parse.GetValue(data) ?? ck.Config.Data;
                if (!Directory.Exists(dataDir)) throw new ArgumentException($"--data: folder '{dataDir}' does not exist");
                ck = ck with { Config = ck.Config with { Dataset = DatasetOption.Resolve(parse.GetValue(datasetChoice), dataDir, stdout) } };
                if (parse.GetValue(japcSpread) && ck.Config.Head is not ("japc" or "dpl+japc"))
                    throw new ArgumentException($"--japc-spread: the checkpoint's head {ck.Config.Head} has no calibration");
                var cut = parse.GetValue(threshold);
                if (cut is double t && !(t > 0 && t <= 1)) throw new ArgumentException($"--threshold: {t} must be in (0, 1]");
                bool rotate = parse.GetValue(allSupports);
                if (rotate && parse.GetValue(supportPid) != null) throw new ArgumentException("--support-pid and --all-supports: give one of them");
                if (rotate && parse.GetValue(savePredictions)) throw new ArgumentException("--save-predictions and --all-supports: save the predictions of one support (--support-pid)");
                var outDir = parse.GetValue(output)!;
                Directory.CreateDirectory(outDir);
                var predictions = parse.GetValue(savePredictions) ? new PredictionVolumes(runner, ck.Config.InputSize, acc) : null;
                int evalFold = parse.GetValue(fold) ?? ck.Config.Fold;
                ProtocolFold protocol;
                ScanFolder folder;
                EvaluationResult result;
                string? supportsTable = null;
                if (rotate)
                {
                    (protocol, folder, var results) = FoldEvaluation.RunAllSupports(runner, ck.Config, dataDir, evalFold, acc, parse.GetValue(raters), cut);
                    supportsTable = FoldEvaluation.WriteSupports(results, outDir);
                    result = results[0].Result;
                }
                else (protocol, folder, result) = FoldEvaluation.Run(runner, ck.Config, dataDir, evalFold, acc, parse.GetValue(raters), predictions, parse.GetValue(supportPid), cut);
                var table = FoldEvaluation.WriteOutputs(runner, ck.Config, protocol, folder, result, outDir, acc, cut);
                stdout.WriteLine($"fold {protocol.Fold.Index}: support {string.Join(",", protocol.Fold.SupportPids)}, queries {string.Join(",", protocol.Fold.QueryPids)}, "
                    + $"{ck.Config.Head} after {ck.Iteration} iterations{(cut is double c ? $", foreground where P(fg) ≥ {c}" : "")}");
                stdout.Write(table);
                stdout.WriteLine($"wrote {outDir}/dice.csv, dice.md and overlay PNGs");
                if (parse.GetValue(japcSpread))
                {
                    var spread = FoldEvaluation.JapcSpread(runner, ck.Config, protocol, folder, acc)!;
                    IlgpuSeg.Cli.Reports.AtomicFile.Write(Path.Combine(outDir, FoldEvaluation.JapcSpreadName), FoldEvaluation.JapcSpreadCsv(spread));
                    stdout.WriteLine($"JAPC background prototypes' spread (mean over {spread.Count} support slices): {spread.Average(r => r.Before):G4} before calibration, "
                        + $"{spread.Average(r => r.After):G4} after; wrote {outDir}/{FoldEvaluation.JapcSpreadName}");
                }
                if (supportsTable != null)
                {
                    stdout.WriteLine("support rotation (each support scored on the fold's other unseen scans):");
                    stdout.Write(supportsTable);
                    stdout.WriteLine($"wrote {outDir}/{FoldEvaluation.SupportsCsvName} and {FoldEvaluation.SupportsMarkdownName}");
                }
                if (predictions != null) stdout.WriteLine($"wrote {predictions.Write(dataDir, outDir).Count} prediction volumes (NIfTI, on each query's grid)");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or DataFormatException or CheckpointFormatException or StateDictMismatchException or IOException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
