using System.Globalization;
using IlgpuSeg.Cli.Sweep;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Sweep;

/// <summary>A study whose shared starts are given checkpoints (<c>stage1.starts</c>) and whose evaluation rotates the support (<c>all_supports</c>).</summary>
public class SweepStartsTests
{
    /// <summary>The phantom study with stage 1 replaced by a given start and the support rotated; returns the study path.</summary>
    private static string WithStart(string root, string start)
    {
        var study = PhantomStudy.Write(root, "given");
        File.WriteAllText(study, File.ReadAllText(study)
            .Replace("\"stage1\": { \"head\": \"alp\", \"iterations\": 4, \"seed\": 5 },",
                $"\"stage1\": {{ \"starts\": [{{ \"fold\": 0, \"split\": \"2,3\", \"checkpoint\": \"{start}\" }}] }}, \"evaluation\": {{ \"all_supports\": true }},"));
        return study;
    }

    [Fact]
    public void GivenStartsReplaceStageOneAndCollectPairsOnEverySupport()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-starts").FullName;
        try
        {
            // The start: the phantom study's own stage-1 configuration, trained here.
            var plain = Study.Load(PhantomStudy.Write(root, "plain"));
            var stage1 = SweepPlan.Create(plain)[0];
            Trainer.Run(stage1.Config, Path.Combine(root, "start"), 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null);
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
}
