using System.Diagnostics;
using System.Runtime.InteropServices;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Benchmarks;

/// <summary>
/// Times our Sgemm against OpenBLAS cblas_sgemm (row-major, no transposes) and prints a Markdown table.
/// Each timing is the best of several trials; ours and OpenBLAS trials alternate so machine noise hits both.
/// </summary>
public static unsafe class GemmBenchmark
{
    static readonly (int M, int N, int K)[] Shapes =
    [
        (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
        // ResNet convolution GEMMs.
        (256, 2048, 2304), (512, 2048, 4608), (256, 8192, 64), (1024, 2048, 256),
    ];

    // Many short trials: other work on the machine comes in bursts, and the best trial is the least disturbed.
    const int Trials = 15;
    const double MinTrialSeconds = 0.08;

    public static int Run(string[] args)
    {
        int threads = 2;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--threads" && i + 1 < args.Length) threads = int.Parse(args[++i]);
            else { Console.Error.WriteLine($"gemm: unknown argument '{args[i]}'"); return 2; }
        }

        // OPENBLAS_CORETYPE=Haswell makes OpenBLAS skip its AVX-512 kernels. It is read by native getenv when the
        // library loads, which Environment.SetEnvironmentVariable does not reach, so restart without it.
        if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { } coreType)
        {
            Console.Error.WriteLine($"OPENBLAS_CORETYPE={coreType} is set; re-running without it.");
            return ReExecWithoutCoreType();
        }

        OpenBlas blas = OpenBlas.Load();
        blas.SetThreads(threads);

        Console.WriteLine($"Sgemm, row-major, no transposes, float32, {threads} threads; " +
                          $"OpenBLAS {blas.Config} (core {blas.CoreName}); {MachineInfo.Cpus()}; " +
                          $"GFLOP/s = 2·M·N·K / best of {Trials} trials.");
        Console.WriteLine();
        Console.WriteLine("| M | N | K | ours GFLOP/s | OpenBLAS GFLOP/s | ratio |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        var agreement = new List<string>();
        foreach (var (m, n, k) in Shapes)
        {
            float* a = Alloc((long)m * k, 1), b = Alloc((long)k * n, 2);
            float* cOurs = Alloc((long)m * n, 0), cBlas = Alloc((long)m * n, 0);
            Action ours = () => Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, cOurs, n, threads);
            Action theirs = () => blas.Sgemm(m, n, k, 1f, a, k, b, n, 0f, cBlas, n);

            int repsOurs = Calibrate(ours), repsBlas = Calibrate(theirs);
            double bestOurs = double.MaxValue, bestBlas = double.MaxValue;
            for (int t = 0; t < Trials; t++)
            {
                bestOurs = Math.Min(bestOurs, Time(ours, repsOurs));
                bestBlas = Math.Min(bestBlas, Time(theirs, repsBlas));
            }
            double flops = 2.0 * m * n * k;
            double gOurs = flops / bestOurs / 1e9, gBlas = flops / bestBlas / 1e9;
            Console.WriteLine($"| {m} | {n} | {k} | {gOurs:F1} | {gBlas:F1} | {gOurs / gBlas:F2} |");
            agreement.Add($"{m}×{n}×{k}: {MaxRelDiff(cOurs, cBlas, (long)m * n):E2}");

            NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(cOurs); NativeMemory.AlignedFree(cBlas);
        }
        Console.WriteLine();
        Console.WriteLine("Agreement with OpenBLAS, max |ours − OpenBLAS| / max |OpenBLAS|: " + string.Join(", ", agreement));
        return 0;
    }

    static int ReExecWithoutCoreType()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        // Under `dotnet IlgpuSeg.Benchmarks.dll` the process is the dotnet host: pass the assembly again.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            start.ArgumentList.Add(typeof(GemmBenchmark).Assembly.Location);
        foreach (string arg in Environment.GetCommandLineArgs()[1..]) start.ArgumentList.Add(arg);
        start.Environment.Remove("OPENBLAS_CORETYPE");
        using var child = Process.Start(start)!;
        child.WaitForExit();
        return child.ExitCode;
    }

    // Runs once to warm up, then finds a repetition count that takes at least MinTrialSeconds.
    static int Calibrate(Action run)
    {
        run();
        int reps = 1;
        while (Time(run, reps) * reps < MinTrialSeconds) reps *= 2;
        return reps;
    }

    // Seconds per run, averaged over reps runs.
    static double Time(Action run, int reps)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++) run();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / reps;
    }

    static float* Alloc(long count, int seed)
    {
        float* p = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
        var rng = new Random(seed);
        for (long i = 0; i < count; i++) p[i] = seed == 0 ? 0f : rng.NextSingle() * 2 - 1;
        return p;
    }

    static double MaxRelDiff(float* x, float* y, long count)
    {
        double maxDiff = 0, maxAbs = 0;
        for (long i = 0; i < count; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs((double)x[i] - y[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs((double)y[i]));
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }

    /// <summary>The few OpenBLAS entry points the benchmark needs, bound at run time.</summary>
    sealed class OpenBlas
    {
        const int RowMajor = 101, NoTrans = 111;

        delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
        delegate* unmanaged<int, void> _setThreads;
        public string Config = "", CoreName = "";

        public static OpenBlas Load()
        {
            string[] candidates =
            [
                "libopenblas.so.0",
                "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
                "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            ];
            nint lib = 0;
            foreach (string path in candidates)
                if (NativeLibrary.TryLoad(path, out lib)) break;
            if (lib == 0)
                throw new DllNotFoundException("libopenblas.so.0 not found; install it with `apt-get install -y libopenblas0-pthread`.");

            var blas = new OpenBlas
            {
                _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
                    NativeLibrary.GetExport(lib, "cblas_sgemm"),
                _setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(lib, "openblas_set_num_threads"),
            };
            blas.Config = CallString(lib, "openblas_get_config");
            blas.CoreName = CallString(lib, "openblas_get_corename");
            return blas;
        }

        static string CallString(nint lib, string name)
            => NativeLibrary.TryGetExport(lib, name, out nint f)
                ? Marshal.PtrToStringAnsi((nint)((delegate* unmanaged<byte*>)f)()) ?? "?"
                : "?";

        public void SetThreads(int threads) => _setThreads(threads);

        public void Sgemm(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
            => _sgemm(RowMajor, NoTrans, NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
