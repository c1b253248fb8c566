using System.Diagnostics;
using System.Globalization;

namespace IlgpuSeg.Cli.Sweep;

/// <summary>
/// <c>sweep run</c>: runs a study's grid on this machine, <c>jobs</c> trainings at a time, each as a child process
/// <c>ilgpuseg sweep task STUDY --index I</c> (the code a Slurm array task runs). Stage 1 goes before the arms that
/// start from it; done runs are skipped, unfinished ones resume from their checkpoints; a failed run is recorded and
/// its arms are blocked, the rest go on. Cancelling stops the children; everything stays resumable.
/// </summary>
public static class LocalRunner
{
    /// <summary>Returns the number of runs that failed or were blocked (0: the whole grid is done).</summary>
    public static int Run(Study study, IReadOnlyList<PlannedRun> runs, int jobs, string device, int threads, TextWriter output, CancellationToken cancel)
    {
        var states = new Dictionary<string, (string State, string? Error)>();
        var pending = new List<PlannedRun>();
        foreach (var run in runs)
        {
            if (RunStatus.Read(run.Folder)?.State == RunStatus.Done) continue;
            pending.Add(run);
            states[run.Id] = ("pending", null);
        }
        int total = pending.Count, finished = 0;
        output.WriteLine($"{runs.Count} runs, {runs.Count - total} already done, {total} to run, {jobs} at a time on {device} ({threads} CPU thread(s) each)");
        var running = new Dictionary<Task, (PlannedRun Run, Process Process)>();
        var clock = Stopwatch.StartNew();
        SweepManifest.Write(study, runs, states);
        try
        {
            while (pending.Count > 0 || running.Count > 0)
            {
                foreach (var run in pending.ToList())
                {
                    if (running.Count >= jobs || cancel.IsCancellationRequested) break;
                    var start = run.DependsOn == null ? RunStatus.Done : states.TryGetValue(run.DependsOn, out var s) ? s.State : RunStatus.Done;
                    if (start is RunStatus.Failed or "blocked")
                    {
                        pending.Remove(run);
                        states[run.Id] = ("blocked", $"its start {run.DependsOn} did not finish");
                        finished++;
                        output.WriteLine($"blocked  {run.Id} (its start {run.DependsOn} did not finish)");
                        continue;
                    }
                    if (start != RunStatus.Done) continue;
                    pending.Remove(run);
                    var process = Start(study, run, device, threads);
                    running[process.WaitForExitAsync(CancellationToken.None)] = (run, process);
                    states[run.Id] = (RunStatus.Running, null);
                    output.WriteLine($"started  {run.Id} (index {run.Index})");
                }
                SweepManifest.Write(study, runs, states);
                if (running.Count == 0)
                {
                    if (cancel.IsCancellationRequested) break;
                    continue;
                }
                try
                {
                    Task.WhenAny(running.Keys).Wait(cancel);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                foreach (var task in running.Keys.Where(t => t.IsCompleted).ToList())
                {
                    var (run, process) = running[task];
                    running.Remove(task);
                    var status = RunStatus.Read(run.Folder);
                    states[run.Id] = process.ExitCode == 0 && status?.State == RunStatus.Done ? (RunStatus.Done, null)
                        : (RunStatus.Failed, status?.State == RunStatus.Failed ? status.Error : $"exit code {process.ExitCode}; see {LogPath(run)}");
                    process.Dispose();
                    finished++;
                    double eta = clock.Elapsed.TotalSeconds / finished * (total - finished);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{states[run.Id].State,-8} {run.Id}{(states[run.Id].Error is string e ? ": " + e : "")} [{finished}/{total}, {clock.Elapsed:hh\\:mm\\:ss} elapsed, ETA {TimeSpan.FromSeconds(eta):hh\\:mm\\:ss}]"));
                }
            }
        }
        finally
        {
            foreach (var (run, process) in running.Values)
            {
                // Our own child, stopped by its id; its last checkpoint stays for the next sweep run.
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.WaitForExit();
                states[run.Id] = ("interrupted", "the sweep was cancelled; it resumes from its checkpoint on the next sweep run");
                output.WriteLine($"stopped  {run.Id} (resumes from its checkpoint next time)");
            }
            SweepManifest.Write(study, runs, states);
        }
        return states.Values.Count(s => s.State is RunStatus.Failed or "blocked");
    }

    private static string LogPath(PlannedRun run) => Path.Combine(run.Folder, "task.log");

    /// <summary>Starts <c>ilgpuseg sweep task</c> for a run, its output appended to the run's task.log.</summary>
    private static Process Start(Study study, PlannedRun run, string device, int threads)
    {
        Directory.CreateDirectory(run.Folder);
        var (file, prefix) = SelfCommand.Resolve();
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in prefix.Concat(["sweep", "task", study.File, "--index", run.Index.ToString(CultureInfo.InvariantCulture), "--device", device,
            "--threads", threads.ToString(CultureInfo.InvariantCulture)]))
            info.ArgumentList.Add(a);
        var log = TextWriter.Synchronized(new StreamWriter(LogPath(run), append: true) { AutoFlush = true });
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) log.WriteLine(e.Data); };
        process.Exited += (_, _) => { process.WaitForExit(); log.Dispose(); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
