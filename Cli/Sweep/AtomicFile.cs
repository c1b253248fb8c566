namespace IlgpuSeg.Cli.Sweep;

/// <summary>Writes a file through a temporary name and a rename, so a reader (or a crash) never sees half of it.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
