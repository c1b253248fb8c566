using System.CommandLine;
using IlgpuSeg.Cli.Sweep;
using IlgpuSeg.Cli.Training;
using IlgpuSeg.Data;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Cli.Commands;

/// <summary>
/// <c>ilgpuseg sweep plan|run|task|slurm|collect STUDY</c>: a study's grid of trainings (METHODS §7) planned, run
/// here N at a time or as Slurm job arrays, and collected into the paired analysis.
/// </summary>
public static class SweepCommand
{
    public static Command Create()
    {
        var command = new Command("sweep", "Run a study (stage 1 per fold and split, arms × seeds from it) here or on Slurm, and collect the paired analysis");
        command.Subcommands.Add(PlanCommand());
        command.Subcommands.Add(RunCommand());
        command.Subcommands.Add(TaskCommand());
        command.Subcommands.Add(SlurmCommand());
        command.Subcommands.Add(CollectCommand());
        return command;
    }

    private static Argument<string> StudyArgument() => new("study") { Description = "Study file (JSON, see README)" };

    private static Option<int> ThreadsOption() => new("--threads") { Description = "CPU threads per training", DefaultValueFactory = _ => 1 };

    private static Option<string> DeviceOption() => new("--device") { Description = "cpu, opencl or cuda (optionally :N) for every training", DefaultValueFactory = _ => "cpu" };

    private static Command PlanCommand()
    {
        var study = StudyArgument();
        var command = new Command("plan", "Print the runs with their index, id, dependency and folder") { study };
        command.SetAction(parse => Guarded(parse, (s, runs) =>
        {
            parse.InvocationConfiguration.Output.Write(SweepPlan.Describe(runs));
            return 0;
        }, study));
        return command;
    }

    private static Command RunCommand()
    {
        var study = StudyArgument();
        var jobs = new Option<int>("--jobs") { Description = "Trainings at a time", DefaultValueFactory = _ => 1 };
        var threads = ThreadsOption();
        var device = DeviceOption();
        var command = new Command("run", "Run the study here, N trainings at a time (done runs skipped, unfinished ones resumed)") { study, jobs, device, threads };
        command.SetAction(parse => Guarded(parse, (s, runs) =>
        {
            if (parse.GetValue(jobs) < 1 || parse.GetValue(threads) < 1) throw new ArgumentException("--jobs and --threads must be at least 1");
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler stop = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += stop;
            try
            {
                var output = parse.InvocationConfiguration.Output;
                int failed = LocalRunner.Run(s, runs, parse.GetValue(jobs), parse.GetValue(device)!, parse.GetValue(threads), output, cancel.Token);
                output.WriteLine($"manifest: {Path.Combine(s.OutDir, SweepManifest.FileName)}");
                if (cancel.IsCancellationRequested)
                {
                    parse.InvocationConfiguration.Error.WriteLine("error: interrupted; run the same command again to resume");
                    return 130;
                }
                if (failed > 0) parse.InvocationConfiguration.Error.WriteLine($"error: {failed} run(s) failed or were blocked; see the manifest");
                return failed > 0 ? 1 : 0;
            }
            finally { Console.CancelKeyPress -= stop; }
        }, study));
        return command;
    }

    private static Command TaskCommand()
    {
        var study = StudyArgument();
        var index = new Option<int>("--index") { Description = "The run's index in the plan (a Slurm array task passes $SLURM_ARRAY_TASK_ID)", Required = true };
        var threads = ThreadsOption();
        var device = DeviceOption();
        var command = new Command("task", "Run one run of the study: train (resuming if interrupted), evaluate, record its status") { study, index, device, threads };
        command.SetAction(parse => Guarded(parse, (s, runs) =>
        {
            int i = parse.GetValue(index);
            if (i < 0 || i >= runs.Count) throw new ArgumentException($"--index {i}: the study has runs 0 to {runs.Count - 1}");
            SweepTask.Run(s, runs[i], parse.GetValue(device)!, parse.GetValue(threads), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            return 0;
        }, study));
        return command;
    }

    private static Command SlurmCommand()
    {
        var study = StudyArgument();
        var output = new Option<string>("--out") { Description = "Folder for the sbatch scripts, submit.sh and the task logs", Required = true };
        var cpus = new Option<int>("--cpus-per-task") { Description = "CPUs per training (also its --threads)", DefaultValueFactory = _ => 4 };
        var time = new Option<string>("--time") { Description = "Time limit per training (Slurm format)", DefaultValueFactory = _ => "04:00:00" };
        var memory = new Option<string?>("--mem") { Description = "Memory per training, e.g. 8G (default: the cluster's)" };
        var partition = new Option<string?>("--partition") { Description = "Partition (default: the cluster's)" };
        var gres = new Option<string?>("--gres") { Description = "Generic resources per training, e.g. gpu:1" };
        var device = DeviceOption();
        var run = new Option<string?>("--command") { Description = "How the nodes start ilgpuseg (default: this ilgpuseg's path)" };
        var command = new Command("slurm", "Write sbatch job arrays (stage 1, then the arms with --dependency=afterok) and submit.sh")
            { study, output, cpus, time, memory, partition, gres, device, run };
        command.SetAction(parse => Guarded(parse, (s, runs) =>
        {
            if (parse.GetValue(cpus) < 1) throw new ArgumentException("--cpus-per-task must be at least 1");
            var (file, prefix) = SelfCommand.Resolve();
            var words = parse.GetValue(run)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [file, .. prefix];
            var dir = parse.GetValue(output)!;
            SlurmScripts.Write(s, runs, dir, new SlurmResources(parse.GetValue(cpus), parse.GetValue(time)!, parse.GetValue(memory), parse.GetValue(partition),
                parse.GetValue(gres), parse.GetValue(device)!), words);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(dir, SlurmScripts.Stage1Script)}, {SlurmScripts.ArmsScript} and {SlurmScripts.SubmitScript} "
                + $"({runs.Count(r => r.IsStage1)} stage-1 and {runs.Count(r => !r.IsStage1)} arm tasks); submit with {Path.Combine(dir, SlurmScripts.SubmitScript)}");
            return 0;
        }, study));
        return command;
    }

    private static Command CollectCommand()
    {
        var study = StudyArgument();
        var command = new Command("collect", "Pair every arm with the control per unit and write units.csv, paired.csv and paired.md") { study };
        command.SetAction(parse => Guarded(parse, (s, runs) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var manifest = SweepManifest.Write(s, runs);
            output.WriteLine($"{manifest.Count(e => e.State == RunStatus.Done)} of {manifest.Count} runs done");
            output.Write(StudyCollector.Run(s, runs, output));
            output.WriteLine($"wrote {Path.Combine(s.OutDir, StudyCollector.UnitsName)}, {StudyCollector.PairedName} and {StudyCollector.MarkdownName}");
            return 0;
        }, study));
        return command;
    }

    /// <summary>Loads the study and its plan, runs the action; bad input is one line on stderr and exit 1.</summary>
    private static int Guarded(ParseResult parse, Func<Study, IReadOnlyList<PlannedRun>, int> action, Argument<string> studyArgument)
    {
        try
        {
            var study = Study.Load(parse.GetValue(studyArgument)!);
            return action(study, SweepPlan.Create(study));
        }
        catch (Exception e) when (e is StudyFormatException or ArgumentException or DataFormatException or CheckpointFormatException or StateDictMismatchException
            or ResumeMismatchException or TrainingDivergedException or IOException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
