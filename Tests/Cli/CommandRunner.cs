using System.CommandLine;

namespace IlgpuSeg.Tests.Cli;

/// <summary>Runs one CLI command in-process with captured output, and checks the one-line error convention.</summary>
internal static class CommandRunner
{
    public static (int Exit, string Out, string Err) Invoke(Command command, params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var root = new RootCommand { command };
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    public static void AssertOneLineError(string error, params string[] contains)
    {
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: ", error);
        foreach (var c in contains) Assert.Contains(c, error);
    }
}
