using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data.Phantoms;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Reports;

/// <summary>A run folder as a user gets it, in seconds: a few iterations on small phantoms, then the evaluation into run/eval.</summary>
internal static class TinyRun
{
    public static string Phantoms(string root)
    {
        var data = Path.Combine(root, "data");
        PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        return data;
    }

    public static TrainConfig Config(string data, string head, int iterations) => new()
    {
        Data = data, Iterations = iterations, InputSize = 64, Depth = [1, 1, 1, 1], Width = 1 / 16.0, Seed = 5,
        SupervisedEpisodes = true, LearningRate = 1e-2, Head = head,
    };

    /// <summary>Trains (checkpoint every 4 iterations) and evaluates; returns the run folder.</summary>
    public static string Create(string root, string head = "alp", int iterations = 12)
    {
        var config = Config(Phantoms(root), head, iterations);
        var runDir = Path.Combine(root, "run");
        var acc = Context.Default.CreateCpuAccelerator(2);
        var result = Trainer.Run(config, runDir, 4, null, acc, TextWriter.Null, TextWriter.Null);
        var runner = Trainer.LoadRunner(Checkpoint.Load(result.CheckpointPath), acc);
        var (protocol, folder, evaluation) = FoldEvaluation.Run(runner, config, config.Data, 0, acc, simulatedRaters: Trainer.RatersFor(config) > 1);
        FoldEvaluation.WriteOutputs(runner, config, protocol, folder, evaluation, Path.Combine(runDir, "eval"), acc);
        return runDir;
    }
}
