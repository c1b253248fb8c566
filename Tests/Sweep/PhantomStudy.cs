using System.Diagnostics;
using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Cli.Sweep;
using IlgpuSeg.Data.Phantoms;

namespace IlgpuSeg.Tests.Sweep;

/// <summary>
/// The tiny study the sweep tests run: phantoms, one fold and split, a stage-1 run, arms control (alp) and dpl
/// × seeds 11 and 12 from it, a few iterations each on a tiny encoder.
/// </summary>
internal static class PhantomStudy
{
    public const int Runs = 5;   // 1 stage-1 run + 2 arms × 2 seeds

    /// <summary>
    /// Writes phantoms (once per root) and a study file whose runs go to <paramref name="outName"/>, with
    /// <paramref name="extraArm"/> (JSON text) appended to the arms; returns the study path.
    /// </summary>
    public static string Write(string root, string outName, string extraArm = "")
    {
        var data = Path.Combine(root, "data");
        if (!Directory.Exists(data))
            PhantomGenerator.WriteFolder(data, new PhantomOptions { Width = 32, Height = 32, Depth = 12 }, seed: 3, Enumerable.Range(1, 6).ToArray());
        var path = Path.Combine(root, outName + ".json");
        File.WriteAllText(path, $$"""
            {
              // phantoms: episodes from the labels of the training classes
              "data": "data",
              "out": "{{outName}}",
              "train": { "InputSize": 64, "Depth": [1, 1, 1, 1], "Width": 0.0625, "SupervisedEpisodes": true, "LearningRate": 0.01 },
              "folds": [0],
              "splits": ["2,3"],
              "seeds": [11, 12],
              "stage1": { "head": "alp", "iterations": 4, "seed": 5 },
              "iterations": 8,
              "checkpoint_every": 2,
              "arms": [
                { "name": "control", "head": "alp" },
                { "name": "dpl", "head": "dpl", "options": { "DplLoss": "panet" } }{{extraArm}}
              ]
            }
            """);
        return path;
    }

    /// <summary>Runs an ilgpuseg command in-process; fails the test with its output when it does not exit 0.</summary>
    public static string Cli(params string[] args)
    {
        var (code, output, error) = IlgpuSeg.Tests.Cli.CommandRunner.Invoke(SweepCommand.Create(), args);
        Assert.True(code == 0, $"ilgpuseg {string.Join(' ', args)} exited {code}:\n{output}\n{error}");
        return output;
    }

    /// <summary>The collected tables of a study folder.</summary>
    public static (string Units, string Paired) Tables(string studyOut) =>
        (File.ReadAllText(Path.Combine(studyOut, StudyCollector.UnitsName)), File.ReadAllText(Path.Combine(studyOut, StudyCollector.PairedName)));

    /// <summary>Starts ilgpuseg as a separate process (as a user would), its output read and dropped so the pipes never fill.</summary>
    public static Process Start(params string[] args)
    {
        var (file, prefix) = SelfCommand.Resolve();
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(args)) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
