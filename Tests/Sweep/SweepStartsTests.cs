using System.Globalization;
using IlgpuSeg.Cli.Sweep;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Sweep;

/// <summary>A study whose shared starts are given checkpoints (<c>stage1.starts</c>) and whose evaluation rotates the support (<c>all_supports</c>).</summary>
public class SweepStartsTests
{
    /// <summary>The phantom study with stage 1 replaced by a given start and the support rotated; returns the study path.</summary>
    private static string WithStart(string root, string start, bool simulatedRaters = false, string? sha256 = null)
    {
        var study = PhantomStudy.Write(root, "given");
        string pin = sha256 == null ? "" : $", \"sha256\": \"{sha256}\"";
        File.WriteAllText(study, File.ReadAllText(study)
            .Replace("\"stage1\": { \"head\": \"alp\", \"iterations\": 4, \"seed\": 5 },",
                $"\"stage1\": {{ \"starts\": [{{ \"fold\": 0, \"split\": \"2,3\", \"checkpoint\": \"{start}\"{pin} }}] }}, " +
                $"\"evaluation\": {{ \"all_supports\": true, \"simulated_raters\": {(simulatedRaters ? "true" : "false")} }},"));
        return study;
    }

    /// <summary>Trains the phantom study's stage 1 as the given start (start/checkpoint.safetensors under <paramref name="root"/>).</summary>
    private static void TrainStart(string root)
    {
        var stage1 = SweepPlan.Create(Study.Load(PhantomStudy.Write(root, "plain")))[0];
        Trainer.Run(stage1.Config, Path.Combine(root, "start"), 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null);
    }

    [Fact]
    public void GivenStartsReplaceStageOneAndCollectPairsOnEverySupport()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-starts").FullName;
        try
        {
            TrainStart(root);
            var study = WithStart(root, "start/checkpoint.safetensors");

            var runs = SweepPlan.Create(Study.Load(study));
            Assert.Equal(PhantomStudy.Runs - 1, runs.Count);
            Assert.All(runs, r => Assert.False(r.IsStage1));
            Assert.All(runs, r => Assert.Null(r.DependsOn));
            Assert.All(runs, r => Assert.Equal(Path.Combine(root, "start", Trainer.CheckpointName), r.Config.Init));

            PhantomStudy.Cli("sweep", "run", study, "--threads", "2");
            PhantomStudy.Cli("sweep", "collect", study);
            // Every arm run scored each of fold 0's five unseen scans as the support, on the other four.
            foreach (var run in runs)
            {
                var rows = File.ReadAllLines(run.SupportsDicePath).Skip(1).Select(l => l.Split(',')).ToArray();
                Assert.Equal(["1", "2", "3", "4", "5"], rows.Select(r => r[0]).Distinct().Order());
                Assert.All(rows.GroupBy(r => r[0]), g => Assert.Equal(4, g.Select(r => r[1]).Distinct().Count()));
            }
            // units.csv's organ means are over all support–query pairs, not the fold's support alone.
            double Mean(PlannedRun run, string organ) => 100 * File.ReadAllLines(run.SupportsDicePath).Skip(1).Select(l => l.Split(','))
                .Where(r => r[2] == organ).Average(r => double.Parse(r[4], CultureInfo.InvariantCulture));
            var (units, _) = PhantomStudy.Tables(Path.Combine(root, "given"));
            var dpl = runs.First(r => r.Arm == "dpl");
            var control = runs.First(r => r.Arm == "control" && r.Seed == dpl.Seed);
            var row = units.Split('\n').First(l => l.StartsWith($"dpl,{dpl.Unit},RK,", StringComparison.Ordinal)).Split(',');
            Assert.Equal(Mean(dpl, "RK"), double.Parse(row[3], CultureInfo.InvariantCulture), 0.0001);
            Assert.Equal(Mean(control, "RK"), double.Parse(row[4], CultureInfo.InvariantCulture), 0.0001);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void WithSimulatedRatersEveryRunIsScoredAgainstTheTruthAndPerRaterAndCollectPairsBoth()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-starts").FullName;
        try
        {
            TrainStart(root);
            var study = WithStart(root, "start/checkpoint.safetensors", simulatedRaters: true);
            var runs = SweepPlan.Create(Study.Load(study));
            PhantomStudy.Cli("sweep", "run", study, "--threads", "2");
            var markdown = PhantomStudy.Cli("sweep", "collect", study);
            foreach (var run in runs)
            {
                string[][] Rows(string path) => File.ReadAllLines(path).Skip(1).Select(l => l.Split(',')).ToArray();
                Assert.Equal(["0"], Rows(run.EvaluationPath(true, raters: false)).Select(r => r[3]).Distinct());   // one rater: the ground truth
                Assert.Equal(["0", "1", "2"], Rows(run.EvaluationPath(true, raters: true)).Select(r => r[3]).Distinct().Order());
                Assert.Equal(Path.Combine(run.Folder, "dice_supports_raters.csv"), run.EvaluationPath(true, raters: true));
            }
            // Both tables pair the same units; the rater table is its own analysis, not a copy of the ground truth's.
            var given = Path.Combine(root, "given");
            var (units, _) = PhantomStudy.Tables(given);
            var unitsRaters = File.ReadAllText(Path.Combine(given, "units_raters.csv"));
            string Keys(string csv) => string.Join('\n', csv.Split('\n').Select(l => string.Join(',', l.Split(',').Take(3))));
            Assert.Equal(Keys(units), Keys(unitsRaters));
            Assert.NotEqual(units, unitsRaters);
            Assert.True(File.Exists(Path.Combine(given, "paired_raters.csv")));
            Assert.Contains("### Against the ground truth", markdown);
            Assert.Contains("### Per simulated rater", markdown);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void AMissingOrUncoveredStartIsOneLineNamingTheFile()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-starts").FullName;
        try
        {
            var study = WithStart(root, "nowhere.safetensors");
            var (code, _, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(IlgpuSeg.Cli.Commands.SweepCommand.Create(), "sweep", "plan", study);
            Assert.Equal(1, code);
            IlgpuSeg.Tests.Cli.CommandRunner.AssertOneLineError(err, study, "nowhere.safetensors' does not exist");

            File.WriteAllText(Path.Combine(root, "x.safetensors"), "");
            File.WriteAllText(study, File.ReadAllText(study).Replace("nowhere", "x").Replace("\"splits\": [\"2,3\"]", "\"splits\": [\"2,3\", \"1,4\"]"));
            (code, _, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(IlgpuSeg.Cli.Commands.SweepCommand.Create(), "sweep", "plan", study);
            Assert.Equal(1, code);
            IlgpuSeg.Tests.Cli.CommandRunner.AssertOneLineError(err, study, "fold 0, split '1,4' needs exactly one checkpoint");
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void AStartPinnedBySha256IsCheckedAndStillPlansOnceItsFileIsGone()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-starts").FullName;
        try
        {
            string file = Path.Combine(root, "x.safetensors");
            File.WriteAllBytes(file, [1, 2, 3]);
            string sha = Trainer.InitSha256(file);
            var unpinned = SweepPlan.Create(Study.Load(WithStart(root, "x.safetensors"))).Select(r => r.Id).ToArray();
            var pinned = SweepPlan.Create(Study.Load(WithStart(root, "x.safetensors", sha256: sha.ToUpperInvariant()))).Select(r => r.Id).ToArray();
            Assert.Equal(unpinned, pinned);

            // Another file under the pinned name is refused, naming both hashes.
            File.WriteAllBytes(file, [1, 2, 4]);
            string other = Trainer.InitSha256(file);
            var study = WithStart(root, "x.safetensors", sha256: sha);
            var (code, _, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(IlgpuSeg.Cli.Commands.SweepCommand.Create(), "sweep", "plan", study);
            Assert.Equal(1, code);
            IlgpuSeg.Tests.Cli.CommandRunner.AssertOneLineError(err, study, $"has sha256 {other}, not the study's {sha}");

            // Gone: the pin stands for it, and the runs keep their ids (and folders), so collect still finds them.
            File.Delete(file);
            Assert.Equal(unpinned, SweepPlan.Create(Study.Load(study)).Select(r => r.Id).ToArray());
            study = WithStart(root, "x.safetensors", sha256: "abc");
            (code, _, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(IlgpuSeg.Cli.Commands.SweepCommand.Create(), "sweep", "plan", study);
            Assert.Equal(1, code);
            IlgpuSeg.Tests.Cli.CommandRunner.AssertOneLineError(err, study, "sha256 'abc' of fold 0, split '2,3' is not 64 hex digits");
        }
        finally { Directory.Delete(root, true); }
    }
}
