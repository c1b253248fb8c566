using System.Diagnostics;
using IlgpuSeg.Cli.Sweep;
using IlgpuSeg.Tests.Support;

namespace IlgpuSeg.Tests.Sweep;

/// <summary>
/// The phantom study on a real Slurm (the one-node cluster of tools/slurm_local.sh, which .ci/run starts): sweep slurm,
/// submit.sh (sbatch, arms held with afterok on stage 1), then the collected tables equal a local sweep run's.
/// </summary>
public class SweepSlurmTests
{
    [FactNeeds(Need.Slurm)]
    public void AStudySubmittedToSlurmCollectsTheSameTablesAsALocalRun()
    {
        if (SlurmCluster.Missing() is string missing) Assert.Fail($"{missing}\n{SlurmCluster.Logs()}");
        var root = Directory.CreateTempSubdirectory("ilgpuseg-slurm").FullName;
        try
        {
            var local = PhantomStudy.Write(root, "local");
            PhantomStudy.Cli("sweep", "run", local, "--jobs", "2");
            PhantomStudy.Cli("sweep", "collect", local);

            var cluster = PhantomStudy.Write(root, "cluster");
            var scripts = Path.Combine(root, "slurm");
            PhantomStudy.Cli("sweep", "slurm", cluster, "--out", scripts, "--cpus-per-task", "1", "--time", "00:10:00");
            var (code, submitted) = SlurmCluster.Run("bash", Path.Combine(scripts, SlurmScripts.SubmitScript));
            Assert.True(code == 0, $"submit.sh failed: {submitted}\n{SlurmCluster.Logs()}");
            var words = submitted.Trim().Split('\n')[^1].Split(' ');   // "stage1 <job> arms <job>"
            Assert.Equal(["stage1", "arms"], new[] { words[0], words[2] });
            var jobs = $"{words[1]},{words[3]}";

            // Wait (bounded) until both arrays have left the queue, or the arms can never start.
            var clock = Stopwatch.StartNew();
            string queue;
            while (true)
            {
                queue = SlurmCluster.Run("squeue", "-h", "-j", jobs, "-o", "%i %T %r").Output.Trim();
                if (queue.Length == 0 || queue.Contains("DependencyNeverSatisfied")) break;
                if (clock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    SlurmCluster.Run("scancel", words[1], words[3]);
                    Assert.Fail($"the arrays did not finish within 5 minutes; queue:\n{queue}\n{SlurmCluster.Logs()}");
                }
                Thread.Sleep(1000);
            }
            var logs = Directory.GetFiles(Path.Combine(scripts, "logs"));
            if (queue.Length > 0) SlurmCluster.Run("scancel", words[3]);
            var errors = string.Join("\n", logs.Where(f => f.EndsWith(".err")).Select(f => $"{Path.GetFileName(f)}: {File.ReadAllText(f).Trim()}"));
            Assert.True(queue.Length == 0, $"stage 1 failed, the arms never ran:\n{queue}\n{errors}");
            Assert.Equal(2 * PhantomStudy.Runs, logs.Length);   // .out and .err per array task

            var collected = PhantomStudy.Cli("sweep", "collect", cluster);
            Assert.Contains($"{PhantomStudy.Runs} of {PhantomStudy.Runs} runs done", collected);
            var expected = PhantomStudy.Tables(Path.Combine(root, "local"));
            var actual = PhantomStudy.Tables(Path.Combine(root, "cluster"));
            Assert.Equal(expected.Units, actual.Units);
            Assert.Equal(expected.Paired, actual.Paired);
        }
        finally { Directory.Delete(root, true); }
    }
}
