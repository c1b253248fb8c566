using System.CommandLine;
using IlgpuSeg.Cli.Commands;

namespace IlgpuSeg.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("ilgpuseg: one-shot and few-shot medical image segmentation");
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(EncodeCommand.Create());
        root.Subcommands.Add(PrepareCommand.Create());
        root.Subcommands.Add(PseudolabelCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(SegmentCommand.Create());
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(DeviceCommands.CreateDevices());
        root.Subcommands.Add(DeviceCommands.CreateSelfTest());
        return root.Parse(args).Invoke();
    }
}
