using BenchmarkDotNet.Running;

namespace IlgpuSeg.Benchmarks;

/// <summary>Dispatches to one benchmark per subcommand.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "";
        string[] rest = args.Length > 0 ? args[1..] : [];
        switch (command)
        {
            case "gemm":
                return GemmBenchmark.Run(rest);
            case "conv":
                return ConvBenchmark.Run(rest);
            case "step":
                return StepBenchmark.Run(rest);
            case "step-worker":
                return StepBenchmark.Worker(rest);
            case "device":
                return DeviceBenchmark.Run(rest);
            case "bdn":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest);
                return 0;
            default:
                Console.Error.WriteLine("usage: Benchmarks <gemm [--threads N] | conv [--threads N] [--net resnet101|resnet50] [--cold] | step [--config small|resnet50|resnet101] [--threads N] [--iterations K] [--warmup SECONDS] | device [--device D] | bdn [BenchmarkDotNet args]>");
                return 2;
        }
    }
}
