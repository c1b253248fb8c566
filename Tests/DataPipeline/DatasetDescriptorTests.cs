using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Preprocessing;
using static IlgpuSeg.Tests.NiftiFiles.NiftiTestFiles;

namespace IlgpuSeg.Tests.DataPipeline;

public class DatasetDescriptorTests
{
    [Fact]
    public void TestClassesAreGivenByNumberOrName()
    {
        Assert.Equal(0, DatasetInfo.Chaos.LabelSetOf("RK,LK"));
        Assert.Equal(0, DatasetInfo.Chaos.LabelSetOf("3, rk"));
        Assert.Equal(1, DatasetInfo.Chaos.LabelSetOf("SPLEEN,1"));
        Assert.Equal(0, DatasetInfo.Chaos.LabelSetOf(null));
        Assert.Equal(1, DatasetInfo.Sabs.LabelSetOf("LIVER,SPLEEN"));
        Assert.Equal(6, DatasetInfo.Sabs.ClassOf("liver"));
        Assert.Contains("class 5 does not exist in CHAOST2", Assert.Throws<ArgumentException>(() => DatasetInfo.Chaos.LabelSetOf("2,5")).Message);
    }

    [Fact]
    public void PrepareRuleGivesTheBuiltInFoldsAndGroupsForTheirLabels()
    {
        // Five folds: CHAOS's 20 scans give its 4 queries per fold, SABS's 30 its 6.
        var chaos = DatasetDescriptor.ForPrepared("CHAOST2", Modality.Mr, DatasetInfo.Chaos.LabelNames, 20);
        Assert.Equal(DatasetInfo.Chaos.QueriesPerFold, chaos.QueriesPerFold);
        Assert.Equal(DatasetInfo.Chaos.LabelGroups, chaos.LabelGroups);
        var sabs = DatasetDescriptor.ForPrepared("SABS", Modality.Ct, DatasetInfo.Sabs.LabelNames, 30);
        Assert.Equal(6, sabs.QueriesPerFold);
        Assert.Equal(DatasetInfo.Sabs.EvaluatedClasses, sabs.EvaluatedClasses);
        // Other labels: every organ evaluated; group 0 is the first half, so label set 0 tests the second half.
        var own = DatasetDescriptor.ForPrepared("own", Modality.Ct, ["BG", "A", "B", "C"], 7);
        Assert.Equal([1, 2, 3], own.EvaluatedClasses);
        Assert.Equal([2, 3], own.TestClasses(0));
        Assert.Equal([1], own.TestClasses(1));
        Assert.Equal(1, own.QueriesPerFold);
    }

    [Fact]
    public void DescriptorFilesRoundTripAndCheckpointsWithoutOneAreChaos()
    {
        using var dir = new TempDir();
        var own = DatasetDescriptor.ForPrepared("own", Modality.Ct, ["BG", "A", "B", "C"], 10);
        var path = DatasetDescriptor.Write(dir.Path, own);
        Assert.Contains("\"modality\": \"ct\"", File.ReadAllText(path));
        var back = DatasetDescriptor.Read(path);
        Assert.Equal((own.Name, own.Modality, own.QueriesPerFold), (back.Name, back.Modality, back.QueriesPerFold));
        Assert.Equal(own.LabelGroups.Select(g => g.ToArray()), back.LabelGroups.Select(g => g.ToArray()));

        var config = new TrainConfig { Data = "d", Dataset = back };
        Assert.Equal(config.ToJson(), TrainConfig.FromJson(config.ToJson()).ToJson());
        var old = new TrainConfig { Data = "d" }.ToJson().Replace("," + "\"Dataset\":" + System.Text.Json.JsonSerializer.Serialize(DatasetInfo.Chaos), "");
        Assert.DoesNotContain("Dataset", old);
        Assert.Same(DatasetInfo.Chaos, TrainConfig.FromJson(old).Dataset);

        File.WriteAllText(path, """{"name": "x", "modality": "mr", "labels": ["BG", "A"], "evaluated_classes": [2], "label_groups": [[], [2]], "queries_per_fold": 1}""");
        var e = Assert.Throws<IlgpuSeg.Data.DataFormatException>(() => DatasetDescriptor.Read(path));
        Assert.Equal($"{path}: evaluated class 2 is not a foreground label (1..1)", e.Message);
    }
}
