namespace IlgpuSeg.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "device":
                return DeviceBenchmark.Run(args[1..]);
            default:
                Console.Error.WriteLine("usage: Benchmarks <gemm|device>");
                return 2;
        }
    }
}
