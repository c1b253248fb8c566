namespace IlgpuSeg.Cli.Sweep;

/// <summary>How to start this ilgpuseg again in a child process or a batch script: its app host, else <c>dotnet ilgpuseg.dll</c>.</summary>
public static class SelfCommand
{
    public static (string File, string[] Prefix) Resolve()
    {
        var dll = typeof(SelfCommand).Assembly.Location;
        var appHost = Path.ChangeExtension(dll, OperatingSystem.IsWindows() ? ".exe" : null);
        return File.Exists(appHost) ? (appHost, []) : ("dotnet", [dll]);
    }
}
