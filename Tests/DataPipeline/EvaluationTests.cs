using IlgpuSeg.Data.Dataset;
using IlgpuSeg.Data.Episodes;
using IlgpuSeg.Data.Evaluation;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.DataPipeline;

public class EvaluationTests
{
    /// <summary>The 20 CHAOS pids of the shared data README.</summary>
    private static readonly int[] ChaosPids = [1, 2, 3, 5, 8, 10, 13, 15, 19, 20, 21, 22, 31, 32, 33, 34, 36, 37, 38, 39];

    [Fact]
    public void ChaosFoldsFollowTheReference()
    {
        var fold0 = FoldSplit.Create(ChaosPids.Reverse().ToArray(), 0, 4);
        Assert.Equal([1, 2, 3, 5], fold0.QueryPids);
        Assert.Equal([8], fold0.SupportPids);
        Assert.Equal(15, fold0.TrainPids.Length);
        Assert.Empty(fold0.TrainPids.Intersect([1, 2, 3, 5, 8]));

        var fold1 = FoldSplit.Create(ChaosPids, 1, 4);
        Assert.Equal([8, 10, 13, 15], fold1.QueryPids);
        Assert.Equal([19], fold1.SupportPids);

        var fold4 = FoldSplit.Create(ChaosPids, 4, 4); // wraps around to scan index 0
        Assert.Equal([36, 37, 38, 39], fold4.QueryPids);
        Assert.Equal([1], fold4.SupportPids);
        Assert.Throws<ArgumentOutOfRangeException>(() => FoldSplit.Create(ChaosPids, 5, 4));

        var sabs = FoldSplit.Create(Enumerable.Range(0, 30).ToArray(), 4, DatasetInfo.Sabs.QueriesPerFold);
        Assert.Equal([24, 25, 26, 27, 28, 29], sabs.QueryPids);
        Assert.Equal([0], sabs.SupportPids);
        Assert.Equal(23, sabs.TrainPids.Length);
    }

    [Fact]
    public void LabelGroupsAndSettings()
    {
        Assert.Equal([2, 3], DatasetInfo.Chaos.TestClasses(0));
        Assert.Equal([1, 4], DatasetInfo.Chaos.TestClasses(1));
        Assert.Equal([1, 6], DatasetInfo.Sabs.TestClasses(1));
        Assert.Empty(DatasetInfo.Chaos.ExcludedClasses(Setting.One, 0));
        Assert.Equal([2, 3], DatasetInfo.Chaos.ExcludedClasses(Setting.Two, 0));
        var plan = ProtocolFold.Create(DatasetInfo.Chaos, ChaosPids, 0, 1, Setting.Two);
        Assert.Equal([1, 4], plan.TestClasses);
        Assert.Equal([1, 4], plan.ExcludedClasses);
        Assert.Equal([8], plan.Fold.SupportPids);
    }

    [Fact]
    public void SupportSlicesAndQueryChunks()
    {
        Assert.Equal([1.0 / 6, 0.5, 5.0 / 6], SupportSlices.Fractions(3), new DoubleTolerance(1e-15));
        Assert.Equal([0.5], SupportSlices.Fractions(1));
        Assert.Equal([0.1, 0.3, 0.5, 0.7, 0.9], SupportSlices.Fractions(5), new DoubleTolerance(1e-12));
        Assert.Equal([12, 16, 20], SupportSlices.Pick(Enumerable.Range(10, 12).ToArray(), 3));
        Assert.Equal([1, 3, 5], SupportSlices.Pick(Enumerable.Range(0, 6).ToArray(), 3));

        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2], Enumerable.Range(10, 11).Select(z => QueryChunks.Part(z, 10, 20, 3)));
        Assert.Equal(0, QueryChunks.Part(7, 7, 7, 3));
        Assert.Equal(0, QueryChunks.Part(3, 5, 9, 3)); // clamped below
        Assert.Equal(9.0, QueryChunks.PythonFloorDivide(1, 0.1));
        Assert.Equal(2.0, QueryChunks.PythonFloorDivide(10, 10 / 3.0));
    }

    [Fact]
    public void OverlapCountsByHand()
    {
        var c = OverlapCounts.Of([1, 1, 0, 0, 1], [1, 0, 1, 0, 1]);
        Assert.Equal(new OverlapCounts(2, 1, 1), c);
        Assert.Equal(4.0 / 6, c.Dice, 1e-15);
        Assert.Equal(1, new OverlapCounts(0, 0, 0).Dice);
        Assert.Equal(0, new OverlapCounts(0, 0, 5).Precision);
    }

    /// <summary>
    /// Support scan: class 1 on slices 0..5 with image value = slice index; query: class 1 on slices 1 (4 px, top-left
    /// 2 × 2) and 2 (2 px, bottom-right), none on 0 and 3. The predictor always marks the top row (4 px).
    /// Slice 1: TP 2, FP 2, FN 2; slice 2: TP 0, FP 4, FN 2; slices 0 and 3 are outside [z_min, z_max] and not scored.
    /// </summary>
    [Fact]
    public void HandComputedDiceAndChunking()
    {
        var supportImage = new float[4 * 4 * 6];
        for (var i = 0; i < supportImage.Length; i++) supportImage[i] = i / 16;
        var supportLabel = Enumerable.Repeat(1, 4 * 4 * 6).ToArray();
        var support = new Scan(100, new Volume<float>(4, 4, 6, supportImage), new Volume<int>(4, 4, 6, supportLabel), null);

        var queryLabel = new Volume<int>(4, 4, 4, new int[64]);
        queryLabel[0, 0, 1] = queryLabel[1, 0, 1] = queryLabel[0, 1, 1] = queryLabel[1, 1, 1] = 1;
        queryLabel[3, 3, 2] = queryLabel[2, 3, 2] = 1;
        var queryImage = new Volume<float>(4, 4, 4, Enumerable.Range(0, 64).Select(i => (float)(i / 16)).ToArray());
        var query = new Scan(7, queryImage, queryLabel, null);

        var calls = new List<(float QuerySlice, float SupportSlice)>();
        Slice2D<float> TopRow(Slice2D<float> s, Slice2D<byte> m, Slice2D<float> q)
        {
            calls.Add((q.Data[0], s.Data[0]));
            Assert.All(m.Data, v => Assert.Equal(1, v));
            return new Slice2D<float>(4, 4, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        }

        var result = FewShotEvaluator.Evaluate(support, [query], [1], TopRow);
        // z = 1 is part 0 (support slice zlist[int(6/6)] = 1); z = 2 is part (1 // (1/3)) = 3 → clamped 2 (support slice 5).
        Assert.Equal([(1f, 1f), (2f, 5f)], calls);
        var score = Assert.Single(result.Scores);
        Assert.Equal(new OverlapCounts(2, 6, 4), score.Counts);
        Assert.Equal((1, 2), (score.ZMin, score.ZMax));
        Assert.Equal(4.0 / 14, score.Dice, 1e-15);
        Assert.Equal(0.25, score.Precision, 1e-15);
        Assert.Equal(2.0 / 6, score.Recall, 1e-15);
        Assert.Equal(4.0 / 14, result.MeanDice, 1e-15);
        Assert.Equal("LIVER", result.Classes[0].Name);
    }

    [Fact]
    public void OracleScoresOneAndEmptyScoresZeroOnTheCommittedScans()
    {
        var folder = ScanFolder.Load(TestScans.TestDataDir);
        var (support, queries) = (folder.Get(15), new[] { folder.Get(39) });
        foreach (var cls in new[] { 1, 2, 3, 4 })
        {
            var oracle = FewShotEvaluator.Evaluate(support, queries, [cls], (s, m, q) => TestScans.Truth(queries, q, cls));
            Assert.Equal(1, Assert.Single(oracle.Scores).Dice);
        }

        var empty = FewShotEvaluator.Evaluate(support, queries, [2, 3], (s, m, q) => new Slice2D<float>(q.Height, q.Width));
        Assert.All(empty.Scores, s => Assert.Equal((0.0, 0.0, 0.0), (s.Dice, s.Recall, s.Precision)));
        Assert.Equal(0, empty.MeanDice);
    }

    [Fact]
    public void PerRaterDiceWithSimulatedRaters()
    {
        var folder = ScanFolder.Load(TestScans.TestDataDir);
        var (support, queries) = (folder.Get(39), new[] { folder.Get(15) });
        var options = new EvaluationOptions { Raters = SimulatedRaters.Default };
        // A predictor that reproduces each rater's style on the true query mask scores 1 for every rater ...
        var styled = FewShotEvaluator.EvaluateRaters(support, queries, [2], (s, masks, q) =>
            SimulatedRaters.Default.Select(r => ToFloat(r.Apply(ToMask(TestScans.Truth(queries, q, 2))))).ToArray(), options);
        Assert.Equal([1.0, 1.0, 1.0], styled.RaterMeanDice);
        // ... one that ignores the styles scores below 1 for each of them.
        var plain = FewShotEvaluator.EvaluateRaters(support, queries, [2], (s, masks, q) =>
            Enumerable.Repeat(TestScans.Truth(queries, q, 2), 3).ToArray(), options);
        Assert.Equal(3, plain.RaterMeanDice.Count);
        Assert.All(plain.RaterMeanDice, d => Assert.InRange(d, 0.5, 0.999));
        Assert.Equal(plain.RaterMeanDice.Average(), plain.MeanDice, 1e-12);
    }

    /// <summary>
    /// CHAOS fold 0 on the shared data: support pid 8, queries 1, 2, 3, 5, the support slices of every class taken
    /// from the label (which matches classmap_1), and an oracle scoring Dice 1.
    /// </summary>
    [FactNeeds(Need.SharedData)]
    public void SharedChaosFoldZero()
    {
        var dir = Path.Combine(Prerequisites.SharedDataDir, "chaos_t2");
        var all = PatientIds.InFolder(dir);
        Assert.Equal(ChaosPids, all);
        var plan = ProtocolFold.Create(DatasetInfo.Chaos, all, 0, 0, Setting.Two);
        Assert.Equal([8], plan.Fold.SupportPids);
        Assert.Equal([1, 2, 3, 5], plan.Fold.QueryPids);
        var folder = ScanFolder.Load(dir, new ScanFolderOptions { Pids = [.. plan.Fold.QueryPids, .. plan.Fold.SupportPids] });
        var support = folder.Get(8);
        foreach (var cls in DatasetInfo.Chaos.EvaluatedClasses)
            Assert.Equal(folder.ClassMap.SlicesOf(DatasetInfo.Chaos.NameOf(cls), 8), support.SlicesWith(cls));
        var queries = plan.Fold.QueryPids.Select(folder.Get).ToArray();
        foreach (var cls in plan.TestClasses)
        {
            var result = FewShotEvaluator.Evaluate(support, queries, [cls], (s, m, q) => TestScans.Truth(queries, q, cls));
            Assert.Equal(4, result.Scores.Count);
            Assert.Equal(1, result.MeanDice);
        }
    }

    private static Slice2D<byte> ToMask(Slice2D<float> p) => new(p.Height, p.Width, Array.ConvertAll(p.Data, v => v > 0.5f ? (byte)1 : (byte)0));
    private static Slice2D<float> ToFloat(Slice2D<byte> m) => new(m.Height, m.Width, Array.ConvertAll(m.Data, v => (float)v));

    private sealed class DoubleTolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double value) => 0;
    }
}
