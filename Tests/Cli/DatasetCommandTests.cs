using System.Globalization;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Data.Preprocessing;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.Cli;

/// <summary>
/// Datasets other than CHAOS through the CLI: CT from raw volumes (prepare → pseudolabel → train → eval with the
/// descriptor prepare wrote), phantoms with a user's 3-organ descriptor, and descriptors that do not fit the data.
/// </summary>
public class DatasetCommandTests
{
    // A tiny encoder at 32² input: the pipeline is under test here, not the Dice.
    private static readonly string[] TinyTraining =
        ["--iterations", "3", "--size", "32", "--depth", "1,1,1,1", "--width", "0.0625", "--checkpoint-every", "3", "--threads", "2"];

    private static string[] DiceRows(string evalDir) => File.ReadAllLines(Path.Combine(evalDir, "dice.csv")).Skip(1).ToArray();

    [Fact]
    public void CtFromRawVolumesTrainsAndEvaluatesWithTheDescriptorPrepareWrote()
    {
        using var raw = new TempDir();
        using var work = new TempDir();
        // Three copies of the TotalSegmentator CT example (Apache-2.0), labels renumbered to CHAOS's.
        foreach (var pid in new[] { 1, 2, 3 })
        {
            File.Copy(TestData("example_ct_sm.nii.gz"), raw.File($"image_{pid}.nii.gz"));
            File.Copy(TestData("example_seg.nii.gz"), raw.File($"label_{pid}.nii.gz"));
        }
        var data = work.File("abdomen_ct");
        var (exit, stdout, error) = CommandRunner.Invoke(PrepareCommand.Create(), "prepare", "--input", raw.Path, "--out", data, "--modality", "ct",
            "--border", "8", "--size", "64", "--label-map", "5:1,2:2,3:3,1:4");
        Assert.True(exit == 0, error);
        var descriptorPath = Path.Combine(data, DatasetDescriptor.FileName);
        var descriptor = DatasetDescriptor.Read(descriptorPath);
        Assert.Equal(("abdomen_ct", Modality.Ct, 1), (descriptor.Name, descriptor.Modality, descriptor.QueriesPerFold)); // 3 scans: ⌊3/5⌋ → at least 1
        Assert.Equal(DatasetInfo.Chaos.LabelNames, descriptor.LabelNames);
        Assert.Contains("dataset.json: abdomen_ct (ct), evaluated LIVER,RK,LK,SPLEEN, 1 queries per fold", stdout);

        (exit, stdout, error) = CommandRunner.Invoke(PseudolabelCommand.Create(), "pseudolabel", "--data", data, "--out", data, "--threads", "2");
        Assert.True(exit == 0, error);
        Assert.Contains($"dataset: abdomen_ct (ct, classes 1 LIVER, 2 RK, 3 LK, 4 SPLEEN), from {descriptorPath}", stdout);
        var image = Nifti.Read(Path.Combine(data, "image_1.nii.gz"));
        Assert.Equal(Data.Superpixels.PseudoLabeller.LabelVolume(image, Data.Superpixels.BodyMask.CtThreshold).GetData(),
            Nifti.Read(Path.Combine(data, "superpix-MIDDLE_1.nii.gz")).GetData());

        var checkpoints = work.File("ck");
        (exit, stdout, error) = CommandRunner.Invoke(TrainCommand.Create(), ["train", "--data", data, "--test-classes", "RK,LK", "--checkpoints", checkpoints, .. TinyTraining]);
        Assert.True(exit == 0, error);
        Assert.Contains("dataset: abdomen_ct (ct", stdout);
        Assert.Contains("done: 3 iterations", stdout);
        var checkpoint = Path.Combine(checkpoints, Trainer.CheckpointName);
        var config = Checkpoint.Load(checkpoint).Config;
        Assert.Equal(descriptor.LabelNames, config.Dataset.LabelNames);
        // CT is z-scored with the training fold's pooled statistics (PROTOCOL §1.4), kept for eval and segment.
        var trainPids = ProtocolFold.Create(config.Dataset, PatientIds.InFolder(data), config.Fold, config.LabelSet, config.ProtocolSetting).Fold.TrainPids;
        Assert.Equal(ScanFolder.PooledStatistics(data, trainPids), config.Intensity);
        Assert.Contains("CT: z-scoring every scan with the training fold's mean", stdout);

        var evalDir = work.File("eval");
        (exit, stdout, error) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", checkpoint, "--dataset", descriptorPath, "--out", evalDir, "--threads", "2");
        Assert.True(exit == 0, error);
        Assert.Contains("fold 0: support 2, queries 1", stdout);
        // One query scan, the two kidneys, a Dice each.
        var rows = DiceRows(evalDir).Select(r => r.Split(',')).ToArray();
        Assert.Equal([("1", "LK"), ("1", "RK")], rows.Select(r => (r[0], r[1])).Order());
        Assert.All(rows, r => Assert.InRange(double.Parse(r[3], CultureInfo.InvariantCulture), 0, 1));
    }

    /// <summary>Phantoms with the spleen removed and a user's descriptor naming the three organs left.</summary>
    private static (string Data, string Descriptor) ThreeOrganPhantoms(string root)
    {
        var data = Path.Combine(root, "phantoms3");
        int[] pids = [1, 2, 3, 4, 5];
        PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 48, Height = 48, Depth = 12 }, seed: 5, pids);
        var labels = new List<(int, Volume<int>)>();
        foreach (var pid in pids)
        {
            var path = Path.Combine(data, $"label_{pid}.nii.gz");
            var label = Nifti.Read(path);
            var values = Array.ConvertAll(label.GetData(), v => v == 4 ? 0 : v);
            Nifti.Write(path, label.WithData(NiftiDataType.UInt8, values));
            labels.Add((pid, new Volume<int>(label.Shape[0], label.Shape[1], label.Shape[2], Array.ConvertAll(values, v => (int)v))));
        }
        File.Delete(Path.Combine(data, "classmap_1.json"));
        ClassMapWriter.Write(data, ["BACKGROUND", "LIVER", "RIGHT_KIDNEY", "LEFT_KIDNEY"], labels);
        var descriptor = Path.Combine(root, "three-organs.json");
        File.WriteAllText(descriptor, """
            {
              "name": "phantom3",
              "modality": "mr",
              "labels": ["BACKGROUND", "LIVER", "RIGHT_KIDNEY", "LEFT_KIDNEY"],
              "evaluated_classes": [1, 2, 3],
              "label_groups": [[1], [2, 3]],
              "queries_per_fold": 2
            }
            """);
        return (data, descriptor);
    }

    [Fact]
    public void PhantomsWithACustomThreeOrganDescriptorTrainAndEvaluate()
    {
        using var work = new TempDir();
        var (data, descriptor) = ThreeOrganPhantoms(work.Path);

        // Neither built-in set has these labels and the folder has no dataset.json: the user must say which dataset it is.
        var (exit, _, error) = CommandRunner.Invoke(TrainCommand.Create(), ["train", "--data", data, "--checkpoints", work.File("ck0"), .. TinyTraining]);
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, data, "cannot tell which dataset", "BACKGROUND, LEFT_KIDNEY, LIVER, RIGHT_KIDNEY", "--dataset");

        (exit, var stdout, error) = CommandRunner.Invoke(PseudolabelCommand.Create(), "pseudolabel", "--data", data, "--out", data, "--dataset", descriptor);
        Assert.True(exit == 0, error);
        Assert.Contains("dataset: phantom3 (mr, classes 1 LIVER, 2 RIGHT_KIDNEY, 3 LEFT_KIDNEY)", stdout);

        // Label set 1 tests the one class outside group 1; named in any case.
        var checkpoints = work.File("ck");
        (exit, stdout, error) = CommandRunner.Invoke(TrainCommand.Create(),
            ["train", "--data", data, "--dataset", descriptor, "--test-classes", "liver", "--checkpoints", checkpoints, .. TinyTraining]);
        Assert.True(exit == 0, error);
        Assert.Contains($"dataset: phantom3 (mr, classes 1 LIVER, 2 RIGHT_KIDNEY, 3 LEFT_KIDNEY), from {descriptor}", stdout);
        Assert.Contains("test classes 1)", stdout);

        var evalDir = work.File("eval");
        (exit, stdout, error) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", Path.Combine(checkpoints, Trainer.CheckpointName),
            "--dataset", descriptor, "--out", evalDir, "--threads", "2");
        Assert.True(exit == 0, error);
        // Fold 0 of 5 scans at 2 queries per fold: queries 1 and 2, support 3.
        Assert.Contains("fold 0: support 3, queries 1,2", stdout);
        Assert.Equal(["1,LIVER", "2,LIVER"], DiceRows(evalDir).Select(r => string.Join(",", r.Split(',')[..2])));
        Assert.Contains("| LIVER |", File.ReadAllText(Path.Combine(evalDir, "dice.md")));

        // segment names the support class in the checkpoint's dataset: the right kidney only is foreground.
        string[] segment = ["segment", "--weights", Path.Combine(checkpoints, Trainer.CheckpointName), "--support-image", Path.Combine(data, "image_3.nii.gz"),
            "--support-mask", Path.Combine(data, "label_3.nii.gz"), "--query", Path.Combine(data, "image_1.nii.gz"), "--threads", "2"];
        var named = work.File("rk_named.nii.gz");
        (exit, _, error) = CommandRunner.Invoke(SegmentCommand.Create(), [.. segment, "--class", "right_kidney", "--out", named]);
        Assert.True(exit == 0, error);
        var numbered = work.File("rk_numbered.nii.gz");
        (exit, _, error) = CommandRunner.Invoke(SegmentCommand.Create(), [.. segment, "--class", "2", "--out", numbered]);
        Assert.True(exit == 0, error);
        Assert.Equal(Nifti.Read(numbered).GetData(), Nifti.Read(named).GetData());
        (exit, _, error) = CommandRunner.Invoke(SegmentCommand.Create(), [.. segment, "--class", "SPLEEN", "--out", work.File("spleen.nii.gz")]);
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, "class SPLEEN does not exist in phantom3 (1 LIVER, 2 RIGHT_KIDNEY, 3 LEFT_KIDNEY)");
    }

    [Fact]
    public void DescriptorsThatDoNotFitTheDataGiveOneLineAndExit1()
    {
        using var work = new TempDir();
        var data = work.File("chaos-like");
        PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        (int Exit, string Err) Train(params string[] args)
        {
            var (exit, _, error) = CommandRunner.Invoke(TrainCommand.Create(), ["train", "--data", data, "--checkpoints", work.File("ck"), .. TinyTraining, .. args]);
            return (exit, error);
        }

        // An organ the dataset does not have, by name or number, and a set that is not a test group.
        var (exit, error) = Train("--test-classes", "RK,PANCREAS");
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, "--test-classes: class PANCREAS does not exist in CHAOST2 (1 LIVER, 2 RK, 3 LK, 4 SPLEEN)");
        (exit, error) = Train("--test-classes", "RK,LIVER");
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, "RK,LIVER is not a test group of CHAOST2 (use 2,3 = RK,LK or 1,4 = LIVER,SPLEEN)");

        // A descriptor whose labels disagree with the class map (no SPLEEN).
        var noSpleen = work.File("no-spleen.json");
        DatasetDescriptor.Write(work.Path, DatasetInfo.Chaos with { Name = "nospleen", LabelNames = ["BG", "LIVER", "RK", "LK"], EvaluatedClasses = [1, 2, 3], LabelGroups = [[1], [2, 3]] });
        File.Move(work.File(DatasetDescriptor.FileName), noSpleen);
        (exit, error) = Train("--dataset", noSpleen);
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, Path.Combine(data, "classmap_1.json"), "label SPLEEN is not in dataset nospleen");

        // A descriptor that evaluates a class no scan has.
        File.WriteAllText(Path.Combine(data, DatasetDescriptor.FileName), """
            {"name": "gall", "modality": "mr", "labels": ["BG", "LIVER", "RK", "LK", "SPLEEN", "GALLBLADDER"],
             "evaluated_classes": [1, 2, 3, 4, 5], "label_groups": [[1, 4, 5], [2, 3]], "queries_per_fold": 4}
            """);
        var labels = Enumerable.Range(1, 6).Select(p => (p, ReadLabel(data, p))).ToList();
        ClassMapWriter.Write(data, [.. DatasetInfo.Chaos.LabelNames, "GALLBLADDER"], labels);
        (exit, error) = Train(); // detected from the folder's dataset.json
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, "evaluated class 5 (GALLBLADDER) of dataset gall occurs in no scan");

        // Too few scans for a fold: CHAOS's 4 queries + 1 support + 1 to train from 5 scans.
        File.Delete(Path.Combine(data, DatasetDescriptor.FileName));
        ClassMapWriter.Write(data, DatasetInfo.Chaos.LabelNames, labels);
        File.Delete(Path.Combine(data, "image_6.nii.gz"));
        (exit, error) = Train();
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, data, "5 scans are too few for a fold of CHAOST2: it needs 6 (4 queries + 1 support + 1 to train)");

        // A malformed descriptor file is named.
        var broken = work.File("broken.json");
        File.WriteAllText(broken, """{"name": "x", "labels": ["BG", "A"]}""");
        (exit, error) = Train("--dataset", broken);
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(error, broken, "not a dataset descriptor");
    }

    private static Volume<int> ReadLabel(string data, int pid)
    {
        var label = Nifti.Read(Path.Combine(data, $"label_{pid}.nii.gz"));
        return new Volume<int>(label.Shape[0], label.Shape[1], label.Shape[2], Array.ConvertAll(label.GetData(), v => (int)v));
    }

    [Fact]
    public void TheDatasetIsDetectedFromTheClassMapAndPrinted()
    {
        using var work = new TempDir();
        var data = work.File("phantoms");
        PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        var (exit, stdout, error) = CommandRunner.Invoke(TrainCommand.Create(), ["train", "--data", data, "--checkpoints", work.File("ck"), .. TinyTraining]);
        // Detection succeeds (CHAOS names); training then stops at the missing superpixels.
        Assert.Equal(1, exit);
        Assert.Contains($"dataset: CHAOST2 (mr, classes 1 LIVER, 2 RK, 3 LK, 4 SPLEEN), built in, detected from the class map labels of {data}", stdout);
        CommandRunner.AssertOneLineError(error, "superpix-MIDDLE_");

        (exit, stdout, _) = CommandRunner.Invoke(TrainCommand.Create(), ["train", "--data", data, "--dataset", "sabs", "--checkpoints", work.File("ck"), .. TinyTraining]);
        Assert.Equal(1, exit);
        Assert.Contains("dataset: SABS (ct, classes 1 SPLEEN, 2 KID_R, 3 KID_l, 6 LIVER), built in (--dataset sabs)", stdout);
    }
}
