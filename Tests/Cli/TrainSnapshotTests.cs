using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Cli;

/// <summary><c>train --snapshot-every N</c>: the checkpoint of every N-th iteration is kept, and resuming (from the latest or a snapshot) stays bit for bit.</summary>
public class TrainSnapshotTests
{
    private static TrainConfig Tiny(string data) => new()
    {
        Data = data, Iterations = 6, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, Seed = 9, SupervisedEpisodes = true, LearningRate = 1e-2, Head = "dpl",
    };

    private static string Run(TrainConfig config, string dir, string? resume = null, int? stopAfter = null) =>
        Trainer.Run(config, dir, 100, resume, Context.Default.CreateCpuAccelerator(2), TextWriter.Null, TextWriter.Null, stopAfter, snapshotEvery: 2).CheckpointPath;

    private static Dictionary<string, double[]> Weights(string path) =>
        Checkpoint.Load(path).Model.ToDictionary(kv => kv.Key, kv => kv.Value.To(DType.Float64).ToArray<double>());

    [Fact]
    public void SnapshotsAreKeptEveryNIterationsAndResumeBitForBit()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-snapshots").FullName;
        try
        {
            var data = Path.Combine(root, "data");
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
            var straight = Path.Combine(root, "straight");
            var final = Run(Tiny(data), straight);
            foreach (var it in new[] { 2, 4, 6 })
            {
                var snapshot = Path.Combine(straight, Trainer.SnapshotName(it));
                Assert.True(File.Exists(snapshot), snapshot);
                Assert.Equal(it, Checkpoint.Load(snapshot).Iteration);
            }
            Assert.Equal(3, Directory.GetFiles(straight, "checkpoint-*.safetensors").Length);
            Assert.NotEqual(Weights(Path.Combine(straight, Trainer.SnapshotName(2))).Values.SelectMany(v => v), Weights(final).Values.SelectMany(v => v));

            // Interrupted after 3 (a checkpoint between snapshots), resumed from the latest: same snapshots, same end.
            var resumed = Path.Combine(root, "resumed");
            var latest = Run(Tiny(data), resumed, stopAfter: 3);
            Run(Tiny(data), resumed, resume: latest);
            foreach (var it in new[] { 2, 4, 6 })
                Assert.Equal(Weights(Path.Combine(straight, Trainer.SnapshotName(it))), Weights(Path.Combine(resumed, Trainer.SnapshotName(it))));

            // Resumed from an older snapshot into a fresh folder: it continues from there to the same end.
            var fromSnapshot = Path.Combine(root, "from-snapshot");
            Assert.Equal(Weights(final), Weights(Run(Tiny(data), fromSnapshot, resume: Path.Combine(straight, Trainer.SnapshotName(4)))));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void ABadSnapshotIntervalIsOneLine()
    {
        var root = Directory.CreateTempSubdirectory("ilgpuseg-snapshots").FullName;
        try
        {
            var (exit, _, error) = CommandRunner.Invoke(TrainCommand.Create(), "train", "--data", root, "--snapshot-every", "0");
            Assert.Equal(1, exit);
            CommandRunner.AssertOneLineError(error, "--snapshot-every 0");
        }
        finally { Directory.Delete(root, true); }
    }
}
