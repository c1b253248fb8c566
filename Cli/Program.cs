using System.CommandLine;

namespace IlgpuSeg.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("ilgpuseg: one-shot and few-shot medical image segmentation");
        return root.Parse(args).Invoke();
    }
}
