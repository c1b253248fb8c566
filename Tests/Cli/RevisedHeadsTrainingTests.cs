using System.Globalization;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Cli;

/// <summary>METHODS §6 in the trainer: paired JAPC/ALP episodes, DPL's metrics, old checkpoints' configs.</summary>
public class RevisedHeadsTrainingTests
{
    /// <summary>Phantoms with superpixels: 8 × 8 px blocks numbered 1..16 on every 32 × 32 slice.</summary>
    private static string PhantomsWithSuperpixels(string root)
    {
        var dir = Path.Combine(root, "data");
        var pids = Enumerable.Range(1, 6).ToArray();
        PhantomGenerator.WriteFolder(dir, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, pids);
        foreach (var pid in pids)
        {
            var image = Nifti.Read(Path.Combine(dir, $"image_{pid}.nii.gz"));
            var (w, h, d) = (image.Shape[0], image.Shape[1], image.Shape[2]);
            var ids = new double[w * h * d];
            for (int z = 0; z < d; z++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) ids[(z * h + y) * w + x] = 1 + y / 8 * (w / 8) + x / 8;
            Nifti.Write(Path.Combine(dir, $"superpix-MIDDLE_{pid}.nii.gz"), image.WithData(NiftiDataType.UInt8, ids));
        }
        return dir;
    }

    // 64² input gives 8 × 8 features; 2 × 2 ALP windows (a non-default --alp-windows) leave background cells around
    // any augmented 16 × 16 px superpixel, where 4 × 4 windows often leave none and skip the episode.
    private static TrainConfig Tiny(string data, string head) => new()
    {
        Data = data, Iterations = 8, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, Seed = 5, LearningRate = 1e-2, Head = head, AlpWindows = [2, 1, 2],
    };

    private static Dictionary<string, Tensor> Encoder(TrainConfig config, string dir, int stopAfter)
    {
        var path = Trainer.Run(config, dir, 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null, stopAfter).CheckpointPath;
        return Checkpoint.Load(path).Model.Where(kv => kv.Key.StartsWith("encoder.", StringComparison.Ordinal)).ToDictionary();
    }

    [Fact]
    public void JapcStageOneEqualsTheAlpRunOfTheSameSeed()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-paired").FullName;
        try
        {
            var data = PhantomsWithSuperpixels(root);
            // 8 iterations: the first 4 are JAPC's stage 1 (ALP on rater 0, pseudo-styles drawn for raters 1 and 2).
            var alp = Encoder(Tiny(data, "alp"), Path.Combine(root, "alp"), 4);
            var japc = Encoder(Tiny(data, "japc"), Path.Combine(root, "japc"), 4);
            Assert.NotEmpty(alp);
            var trained = File.ReadAllLines(Path.Combine(root, "alp", Trainer.MetricsName)).Skip(1).Count(l => l.Split(',')[1].Length > 0);
            Assert.True(trained >= 3, $"only {trained} of 4 iterations trained");
            Assert.Equal([2, 1, 2], Checkpoint.Load(Path.Combine(root, "alp", Trainer.CheckpointName)).Config.AlpWindows);
            Assert.Equal(alp.Keys, japc.Keys);
            foreach (var (name, tensor) in alp) Assert.Equal(tensor.ToDoubleArray(), japc[name].ToDoubleArray());
            // The first form draws the styles from the episode generator, so its episodes (and weights) are not ALP's.
            var unpaired = Encoder(Tiny(data, "japc") with { StyleStream = "episode" }, Path.Combine(root, "unpaired"), 4);
            Assert.Contains(alp, kv => !kv.Value.ToDoubleArray().SequenceEqual(unpaired[kv.Key].ToDoubleArray()));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void JapcWithOwnStyleStreamResumesBitForBitWhateverTheThreadCount()
    {
        // Superpixel episodes draw pseudo-styles from the style generator, whose counter the checkpoint must carry.
        var root = Directory.CreateTempSubdirectory("ilgpuseg-styles").FullName;
        try
        {
            var data = PhantomsWithSuperpixels(root);
            byte[] Run(string name, int threads, int? stopAfter = null, string? resume = null) => File.ReadAllBytes(Trainer.Run(Tiny(data, "japc"),
                Path.Combine(root, name), 100, resume, Context.Default.CreateCpuAccelerator(threads), TextWriter.Null, TextWriter.Null, stopAfter).CheckpointPath);
            var straight = Run("straight", 2);
            Assert.Equal(straight, Run("one-thread", 1));
            Run("killed", 2, stopAfter: 3);
            Assert.Equal(straight, Run("killed", 2, resume: Path.Combine(root, "killed", Trainer.CheckpointName)));
            Assert.True(Checkpoint.Load(Path.Combine(root, "straight", Trainer.CheckpointName)).StyleCounter > 0);
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData("dpl", "replaced")]
    [InlineData("dpl", "paper")]
    [InlineData("dpl+japc", "panet")]
    public void FirstFormsTrainBitwiseIdenticallyWhateverTheThreadCount(string head, string dplLoss)
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-first").FullName;
        try
        {
            var data = PhantomsWithSuperpixels(root);
            var config = Tiny(data, head) with
            {
                DplLoss = dplLoss, DplDiffGradient = "scaled", DplNoise = "first", DplStatistics = "unit", DplOptimizer = "sgd", DplInjection = "additive", JapcForm = "attention", JapcCalib = "raw",
                StyleStream = "episode", RaterScale = "pixel",
            };
            byte[] Run(string name, int threads) => File.ReadAllBytes(Trainer.Run(config, Path.Combine(root, name), 100, null,
                Context.Default.CreateCpuAccelerator(threads), TextWriter.Null, TextWriter.Null).CheckpointPath);
            Assert.Equal(Run("a", 2), Run("b", 1));
            var trained = File.ReadAllLines(Path.Combine(root, "a", Trainer.MetricsName)).Skip(1).Count(l => l.Split(',')[1].Length > 0);
            Assert.True(trained >= 5, $"only {trained} of 8 iterations trained");
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void DplMetricsRecordTheStepAndTheDistancesToP0()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-dplmetrics").FullName;
        try
        {
            var data = PhantomsWithSuperpixels(root);
            var dir = Path.Combine(root, "dpl");
            Trainer.Run(Tiny(data, "dpl"), dir, 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null);
            var lines = File.ReadAllLines(Path.Combine(dir, Trainer.MetricsName));
            var header = lines[0].Split(',');
            int Column(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new Xunit.Sdk.XunitException($"no column {name}");
            var rows = lines.Skip(1).Select(l => l.Split(',')).Where(r => r[Column("loss")].Length > 0).ToArray();
            Assert.True(rows.Length >= 5, string.Join("\n", lines));
            foreach (var r in rows)
            {
                Assert.InRange(int.Parse(r[Column("diff_t")], CultureInfo.InvariantCulture), 1, 10); // t ~ U{1..t*}, t* = 10
                Assert.True(double.Parse(r[Column("noised_dist")], CultureInfo.InvariantCulture) > 0);
                Assert.True(double.Parse(r[Column("denoised_dist")], CultureInfo.InvariantCulture) > 0);
                Assert.True(double.Parse(r[Column("eq15_loss")], CultureInfo.InvariantCulture) >= 0);
            }
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void EvalCanOverrideTheAlpWindowsAndRefusesBadOnes()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-windows").FullName;
        try
        {
            var data = PhantomsWithSuperpixels(root);
            var checkpoint = Trainer.Run(Tiny(data, "alp") with { Iterations = 2 }, Path.Combine(root, "ck"), 100, null, Context.Default.CreateCpuAccelerator(2),
                TextWriter.Null, TextWriter.Null).CheckpointPath;
            string Dice(params string[] windows)
            {
                var outDir = Path.Combine(root, "eval" + string.Concat(windows));
                var (exit, _, err) = CommandRunner.Invoke(IlgpuSeg.Cli.Commands.EvalCommand.Create(), ["eval", "--checkpoint", checkpoint, "--out", outDir, .. windows]);
                Assert.True(exit == 0, err);
                return File.ReadAllText(Path.Combine(outDir, "dice.csv"));
            }
            // The checkpoint's test window is 1; a 2 × 2 test window pools other local prototypes, so Dice changes.
            Assert.Equal(Dice(), Dice("--alp-windows", "2,1,2"));
            Assert.NotEqual(Dice(), Dice("--alp-windows", "2,2,2"));
            var (code, _, error) = CommandRunner.Invoke(IlgpuSeg.Cli.Commands.EvalCommand.Create(), "eval", "--checkpoint", checkpoint, "--out", root, "--alp-windows", "2,0");
            Assert.Equal(1, code);
            CommandRunner.AssertOneLineError(error, "--alp-windows: '2,0'");
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void ConfigsFromBeforeTheRevisionsLoadWithTheirFirstForms()
    {
        // A DPL config as the trainer stored it before METHODS §6 (it had DplAlignment and none of the new options).
        const string old = """{"Data":"d","Superpixels":null,"Head":"dpl","Setting":2,"Fold":0,"LabelSet":0,"Iterations":6000,"InputSize":128,"Depth":[2,2,2,2],"Width":0.25,"FeatureHead":"reduce","Seed":1234,"LearningRate":0.001,"Momentum":0.9,"WeightDecay":0.0005,"Gamma":0.95,"DecayEvery":1000,"JapcForm":"gated","DplAlignment":"panet","DplTarget":"all","DplBeta":0.02,"SupervisedEpisodes":false}""";
        var config = TrainConfig.FromJson(old);
        Assert.Equal([4, 2, 4], config.AlpWindows);
        Assert.Equal("panet", config.DplLoss);
        Assert.Equal("gated", config.JapcForm);
        Assert.Equal(DplConfig.First with { Loss = DplLoss.Panet }, config.Dpl);
        Assert.False(config.AdamForDpl);
        Assert.False(config.Japc.UnitCalibration);
        Assert.False(config.OwnStyleStream);
        Assert.False(config.CellScaleRaters);
        Assert.Equal("replaced", TrainConfig.FromJson(old.Replace("\"DplAlignment\":\"panet\",", "")).DplLoss);
        // A config written now keeps the revised defaults through a round trip.
        var now = TrainConfig.FromJson(new TrainConfig { Head = "dpl" }.ToJson());
        Assert.Equal(DplConfig.Default, now.Dpl);
        Assert.Equal(JapcConfig.Default, now.Japc);
        Assert.True(now.OwnStyleStream && now.CellScaleRaters);
    }
}
