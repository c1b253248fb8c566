namespace IlgpuSeg.Data;

/// <summary>
/// A data file the project cannot use: wrong format, truncated, inconsistent or unsupported.
/// The message always starts with the file's path, so a user can tell which file to look at.
/// </summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file the problem was found in.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the path.</summary>
    public string Problem { get; }
}
