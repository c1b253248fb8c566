using System.Globalization;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>eval --japc-spread</c>: the background prototypes' spread before and after JAPC's calibration (issue 16's no-training check).</summary>
public class EvalJapcSpreadTests
{
    [Fact]
    public void TheRaterFormStartsAsIdentityTheJointFormBlursAndOtherHeadsAreRefused()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-spread").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
            // Rate 0: the checkpoints hold the initial calibration (rater form: W_o = 0, the identity; joint form: attention over all of a class's prototypes).
            string Checkpoint(string head, string form) => Trainer.Run(new TrainConfig
            {
                Data = data, Iterations = 2, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, Seed = 5, SupervisedEpisodes = true, LearningRate = 0, WeightDecay = 0,
                Head = head, JapcForm = form, AlpWindows = [2, 1, 2],
            }, Path.Combine(root, head + form), 100, null, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null).CheckpointPath;

            (double Before, double After)[] Spread(string checkpoint)
            {
                var dir = Path.Combine(root, "eval-" + Path.GetFileName(Path.GetDirectoryName(checkpoint)));
                var (exit, output, error) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", checkpoint, "--out", dir, "--threads", "2", "--japc-spread");
                Assert.True(exit == 0, error);
                Assert.Contains("spread (mean over 6 support slices)", output);
                var rows = File.ReadAllLines(Path.Combine(dir, FoldEvaluation.JapcSpreadName)).Skip(1).Select(l => l.Split(',')).ToArray();
                Assert.Equal(6, rows.Length);   // RK and LK × 3 support slices
                Assert.All(rows, r => Assert.True(int.Parse(r[2], CultureInfo.InvariantCulture) >= 1));
                return rows.Select(r => (double.Parse(r[3], CultureInfo.InvariantCulture), double.Parse(r[4], CultureInfo.InvariantCulture))).ToArray();
            }
            var rater = Spread(Checkpoint("japc", "rater"));
            Assert.All(rater, s => Assert.Equal(s.Before, s.After));
            Assert.Contains(rater, s => s.Before > 0);
            var joint = Spread(Checkpoint("japc", "attention"));
            Assert.Contains(joint, s => s.After < s.Before);

            var (code, _, err) = CommandRunner.Invoke(EvalCommand.Create(), "eval", "--checkpoint", Checkpoint("alp", "rater"), "--out", Path.Combine(root, "bad"), "--japc-spread");
            Assert.Equal(1, code);
            CommandRunner.AssertOneLineError(err, "--japc-spread: the checkpoint's head alp has no calibration");
        }
        finally { Directory.Delete(root, true); }
    }
}
