namespace IlgpuSeg.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: Benchmarks <gemm>");
        return 2;
    }
}
