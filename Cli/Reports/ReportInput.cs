using System.Text.Json;
using IlgpuSeg.Data;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Reports;

/// <summary>Reads one input file of a report; a missing or malformed file becomes a line in the page's problem list, and null.</summary>
public static class ReportInput
{
    public static T? Read<T>(HtmlPage page, string path, Func<string, T> read, string consequence) where T : class
    {
        if (!File.Exists(path))
        {
            page.Problem($"{Path.GetFileName(path)} is missing: {consequence}.");
            return null;
        }
        try { return read(path); }
        catch (Exception e) when (e is DataFormatException or CheckpointFormatException or JsonException or IOException or FormatException
            or InvalidDataException or ArgumentException or NotSupportedException)
        {
            page.Problem($"{Path.GetFileName(path)} could not be read ({e.Message}): {consequence}.");
            return null;
        }
    }
}
