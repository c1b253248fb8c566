using System.Diagnostics;
using System.Text.Json;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Sweep;

namespace IlgpuSeg.Tests.Sweep;

/// <summary><c>sweep plan|run|collect</c> on the tiny phantom study.</summary>
public class SweepRunTests
{
    private static string[] States(string studyOut) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(studyOut, SweepManifest.FileName))).RootElement.GetProperty("runs").EnumerateArray()
            .Select(r => r.GetProperty("state").GetString()!).ToArray();

    [Fact]
    public void PlanGivesStableIdsStage1FirstAndIdsThatFollowTheConfiguration()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-sweep").FullName;
        try
        {
            var study = PhantomStudy.Write(root, "a");
            var plan = PhantomStudy.Cli("sweep", "plan", study);
            Assert.Equal(plan, PhantomStudy.Cli("sweep", "plan", study));
            var rows = plan.Split('\n').Where(l => l.StartsWith("| ") && !l.StartsWith("| index")).Select(l => l.Split('|', StringSplitOptions.TrimEntries)).ToArray();
            Assert.Equal(PhantomStudy.Runs, rows.Length);
            Assert.StartsWith("stage1-f0-s0-", rows[0][2]);
            Assert.All(rows.Skip(1), r => Assert.Equal(rows[0][2], r[4]));
            Assert.Equal(["control-f0-s0-seed11-", "dpl-f0-s0-seed11-", "control-f0-s0-seed12-", "dpl-f0-s0-seed12-"], rows.Skip(1).Select(r => r[2][..^8]));

            // Another DPL option changes only the DPL runs' ids.
            var other = Path.Combine(root, "b.json");
            File.WriteAllText(other, File.ReadAllText(study).Replace("\"panet\"", "\"replaced\""));
            var otherRows = PhantomStudy.Cli("sweep", "plan", other).Split('\n').Where(l => l.StartsWith("| ") && !l.StartsWith("| index"))
                .Select(l => l.Split('|', StringSplitOptions.TrimEntries)[2]).ToArray();
            Assert.Equal(rows.Where(r => !r[2].StartsWith("dpl")).Select(r => r[2]), otherRows.Where(id => !id.StartsWith("dpl")));
            Assert.Empty(rows.Where(r => r[2].StartsWith("dpl")).Select(r => r[2]).Intersect(otherRows));
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [InlineData("\"DplLoss\"", "\"NoSuchOption\"", "'NoSuchOption' is not a training option")]
    [InlineData("\"DplLoss\"", "\"Seed\"", "'Seed' is set by the study grid")]
    [InlineData("\"data\": \"data\"", "\"data\": \"nowhere\"", "does not exist")]
    [InlineData("\"splits\": [\"2,3\"]", "\"splits\": [\"2,5\"]", "class 5 does not exist")]
    [InlineData("\"control\"", "\"ctrl\"", "control arm 'control' is not one of the arms")]
    [InlineData("\"folds\"", "\"fold\"", "not a valid study file")]
    [InlineData("\"head\": \"dpl\"", "\"head\": \"unet\"", "unknown head 'unet'")]
    public void ABadStudyIsOneLineNamingTheFile(string from, string to, string problem)
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-sweep").FullName;
        try
        {
            var study = PhantomStudy.Write(root, "a");
            File.WriteAllText(study, File.ReadAllText(study).Replace(from, to));
            var (code, _, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(SweepCommand.Create(), "sweep", "plan", study);
            Assert.Equal(1, code);
            IlgpuSeg.Tests.Cli.CommandRunner.AssertOneLineError(err, study, problem);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void ASweepKilledPartWayAndRunAgainCollectsTheSameTablesAsAnUninterruptedOne()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-sweep").FullName;
        try
        {
            var straight = PhantomStudy.Write(root, "straight");
            PhantomStudy.Cli("sweep", "run", straight, "--jobs", "2");
            Assert.All(States(Path.Combine(root, "straight")), s => Assert.Equal(RunStatus.Done, s));
            PhantomStudy.Cli("sweep", "collect", straight);
            var expected = PhantomStudy.Tables(Path.Combine(root, "straight"));

            // The same study in its own folder, started as a separate process and killed (with its children) once an arm has a checkpoint part-way.
            var killed = PhantomStudy.Write(root, "killed");
            var killedOut = Path.Combine(root, "killed");
            var process = PhantomStudy.Start("sweep", "run", killed, "--jobs", "2");
            var clock = Stopwatch.StartNew();
            string? partWay = null;
            while (partWay == null && clock.Elapsed < TimeSpan.FromMinutes(3) && !process.HasExited)
            {
                partWay = Directory.Exists(killedOut)
                    ? Directory.GetDirectories(killedOut).FirstOrDefault(d => !Path.GetFileName(d).StartsWith("stage1") && File.Exists(Path.Combine(d, "checkpoint.safetensors"))
                        && RunStatus.Read(d)?.State == RunStatus.Running)
                    : null;
                Thread.Sleep(20);
            }
            Assert.False(process.HasExited, "the sweep finished before it could be killed part-way");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.NotNull(partWay);
            Assert.Contains(States(killedOut), s => s != RunStatus.Done);

            var again = PhantomStudy.Cli("sweep", "run", killed, "--jobs", "2");
            Assert.Contains("already done", again);
            Assert.Contains("resuming from", File.ReadAllText(Path.Combine(partWay, "task.log")));
            Assert.All(States(killedOut), s => Assert.Equal(RunStatus.Done, s));
            PhantomStudy.Cli("sweep", "collect", killed);
            var actual = PhantomStudy.Tables(killedOut);
            Assert.Equal(expected.Units, actual.Units);
            Assert.Equal(expected.Paired, actual.Paired);

            // 2 units × (RK, LK, mean) for the dpl arm against the control; the paired table has the same organs.
            var units = expected.Units.TrimEnd('\n').Split('\n');
            Assert.Equal("arm,unit,organ,dice_arm,dice_control,delta", units[0]);
            Assert.Equal(["dpl,f0-s0-seed11,RK", "dpl,f0-s0-seed11,LK", "dpl,f0-s0-seed11,mean", "dpl,f0-s0-seed12,RK", "dpl,f0-s0-seed12,LK", "dpl,f0-s0-seed12,mean"],
                units.Skip(1).Select(u => string.Join(',', u.Split(',')[..3])));
            var paired = expected.Paired.TrimEnd('\n').Split('\n');
            Assert.Equal("arm,organ,n_units,mean_delta,ci_low,ci_high,p_signflip,sigma_d,smallest_detectable_effect", paired[0]);
            Assert.Equal(["dpl,RK,2", "dpl,LK,2", "dpl,mean,2"], paired.Skip(1).Select(p => string.Join(',', p.Split(',')[..3])));
            Assert.True(File.Exists(Path.Combine(root, "straight", StudyCollector.MarkdownName)));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void AFailedRunIsRecordedWithItsErrorAndTheOthersFinish()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-sweep").FullName;
        try
        {
            // An arm whose encoder is twice as wide as stage 1's cannot start from it.
            var study = PhantomStudy.Write(root, "a", """, { "name": "wide", "head": "alp", "options": { "Width": 0.125 } }""");
            var (code, output, err) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(SweepCommand.Create(), "sweep", "run", study, "--jobs", "2");
            Assert.True(code == 1, output + err);
            IlgpuSeg.Tests.Cli.CommandRunner.AssertOneLineError(err, "2 run(s) failed");
            var runs = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "a", SweepManifest.FileName))).RootElement.GetProperty("runs").EnumerateArray().ToArray();
            Assert.Equal(PhantomStudy.Runs + 2, runs.Length);
            foreach (var run in runs)
            {
                bool wide = run.GetProperty("stage").GetString() == "wide";
                Assert.Equal(wide ? RunStatus.Failed : RunStatus.Done, run.GetProperty("state").GetString());
                if (wide) Assert.Contains("does not fit this run's model", run.GetProperty("error").GetString());
            }
        }
        finally { Directory.Delete(root, true); }
    }
}
