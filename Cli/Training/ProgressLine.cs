using System.Diagnostics;

namespace IlgpuSeg.Cli.Training;

/// <summary>
/// A one-line progress bar on stderr: bar, iteration, loss terms, iterations per second and ETA. On a
/// terminal it redraws in place; otherwise (logs, pipes) it prints a line every <c>every</c> iterations.
/// </summary>
public sealed class ProgressLine(int start, int total, TextWriter output, int every = 10)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected && output == Console.Error;

    public void Report(int iteration, string terms)
    {
        int done = iteration + 1 - start;
        bool last = iteration + 1 == total;
        if (!_interactive && done % every != 0 && !last) return;
        double rate = done / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
        var eta = TimeSpan.FromSeconds((total - iteration - 1) / Math.Max(1e-9, rate));
        int filled = (int)(20.0 * (iteration + 1) / total);
        string line = $"[{new string('#', filled)}{new string('-', 20 - filled)}] it {iteration + 1}/{total} | {terms} | {rate:F2} it/s | ETA {eta:hh\\:mm\\:ss}";
        if (_interactive) output.Write("\r" + line + (last ? "\n" : ""));
        else output.WriteLine(line);
    }
}
