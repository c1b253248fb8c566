using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Reports;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Tests.Cli;

namespace IlgpuSeg.Tests.Reports;

/// <summary>What <c>train</c> leaves for a report, and reports of run folders with missing or malformed files.</summary>
public class ReportInputTests
{
    [Fact]
    public void TrainingWritesProvenanceAndCurvesAtEveryCheckpoint()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-run").FullName;
        try
        {
            var config = TinyRun.Config(TinyRun.Phantoms(root), "japc", 8);
            var run = Path.Combine(root, "run");
            Trainer.Run(config, run, 4, null, IlgpuSeg.Engine.Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null, stopAfter: 4);
            var first = RunRecord.Read(Path.Combine(run, RunRecord.FileName));
            Assert.Equal((4, 8, config.Seed, config.Data), (first.Iteration, first.Iterations, first.Seed, first.Data));
            Assert.True(first.SecondsPerIteration > 0);
            Assert.Equal(config.ToJson(), first.Config.ToJson());
            Assert.False(string.IsNullOrEmpty(first.CommandLine));
            Assert.Contains("1-1-1-1", first.Encoder);
            var curves = File.ReadAllBytes(Path.Combine(run, CurvesPlot.FileName));
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, curves[..4]);

            Trainer.Run(config, run, 4, Path.Combine(run, Trainer.CheckpointName), IlgpuSeg.Engine.Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null);
            Assert.Equal(8, RunRecord.Read(Path.Combine(run, RunRecord.FileName)).Iteration);
            Assert.Empty(Directory.GetFiles(run, "*.tmp"));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void JapcCurvesMarkTheStageSwitch()
    {
        var config = TinyRun.Config("data", "japc", 100);
        Assert.Equal(50, CurvesPlot.StageSwitch(config));
        Assert.Null(CurvesPlot.StageSwitch(config with { Head = "dpl" }));
    }

    [Fact]
    public void AnEmptyFolderGivesAReportListingWhatIsMissing()
    {
        var dir = Directory.CreateTempSubdirectory("ilgpuseg-empty").FullName;
        try
        {
            var (exit, output, err) = CommandRunner.Invoke(ReportCommand.Create(), "report", dir);
            Assert.True(exit == 0, err);
            Assert.Contains("report.html (5 input(s) missing or unreadable", output);
            var html = File.ReadAllText(Path.Combine(dir, "report.html"));
            foreach (var file in new[] { "run.json is missing", "checkpoint.safetensors is missing", "metrics.csv is missing", "dice.csv is missing" })
                Assert.Contains(file, html);
            Assert.DoesNotContain("   at ", html); // no stack trace
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MalformedFilesAreNamedWithTheirLineAndTheRestIsStillReported()
    {
        var dir = Directory.CreateTempSubdirectory("ilgpuseg-bad").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, Trainer.MetricsName), "iteration,loss,query_loss,align_loss,diff_loss,calib_loss,lr,skipped,note\n1,0.5,0.4,0.1,0,0,0.001,0,\n2,zero,0.4,0.1,0,0,0.001,0,\n");
            File.WriteAllText(Path.Combine(dir, RunRecord.FileName), "{ not json");
            File.WriteAllText(Path.Combine(dir, Trainer.CheckpointName), "not a checkpoint");
            File.WriteAllText(Path.Combine(dir, "dice.csv"), "pid,class,rater,dice,precision,recall,z_min,z_max\n1,RK,0,0.8,0.9,0.7,3,9\n2,LK,0,1.7,0.9,0.7,3,9\n");
            File.WriteAllBytes(Path.Combine(dir, "query_1_RK_z5.png"), [1, 2, 3]);
            var (exit, _, err) = CommandRunner.Invoke(ReportCommand.Create(), "report", dir, "--out", Path.Combine(dir, "r.html"));
            Assert.True(exit == 0, err);
            var html = System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(dir, "r.html")));
            Assert.Contains("metrics.csv could not be read", html);
            Assert.Contains("line 3: 'zero' in column loss", html);
            Assert.Contains("run.json could not be read", html);
            Assert.Contains("checkpoint.safetensors could not be read", html);
            Assert.Contains("line 3: '1.7' in column dice", html);
            Assert.Contains("query_1_RK_z5.png is not a PNG", html);
            Assert.Contains("<table id=\"provenance\">", html);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AMissingFolderIsOneClearLine()
    {
        var (exit, _, err) = CommandRunner.Invoke(ReportCommand.Create(), "report", "/nonexistent/run");
        Assert.Equal(1, exit);
        CommandRunner.AssertOneLineError(err, "/nonexistent/run");
    }

    [Fact]
    public void StudyReportTabulatesEveryArmAndOrganWithItsInterval()
    {
        var dir = Directory.CreateTempSubdirectory("ilgpuseg-study").FullName;
        try
        {
            StudyFiles.Write(dir);
            var (exit, _, err) = CommandRunner.Invoke(ReportCommand.Create(), "report", dir);
            Assert.True(exit == 0, err);
            var html = File.ReadAllText(Path.Combine(dir, "report.html"));
            var paired = html[html.IndexOf("<table id=\"paired\">", StringComparison.Ordinal)..];
            paired = paired[..paired.IndexOf("</table>", StringComparison.Ordinal)];
            Assert.Equal(StudyFiles.PairedRows, paired.Split("<tr>").Length - 2);
            // japc RK: deltas 0.02 × (u − 1.5), mean 0.01 → 1.00 points, interval [−1.00, 3.00].
            Assert.Contains("<td>japc</td><td>RK</td><td class=\"num\">5</td><td class=\"num\">1.00</td><td>[-1.00, 3.00]</td>", paired);
            Assert.Contains("id=\"strip\"", html);
            Assert.DoesNotContain("id=\"problems\"", html);

            File.WriteAllText(Path.Combine(dir, "paired.csv"), "arm,organ\n");
            CommandRunner.Invoke(ReportCommand.Create(), "report", dir);
            Assert.Contains("paired.csv could not be read", System.Net.WebUtility.HtmlDecode(File.ReadAllText(Path.Combine(dir, "report.html"))));
        }
        finally { Directory.Delete(dir, true); }
    }
}
