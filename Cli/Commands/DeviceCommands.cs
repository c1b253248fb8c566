using System.CommandLine;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Commands;

/// <summary><c>ilgpuseg devices</c> and <c>ilgpuseg selftest --device &lt;d&gt;</c>.</summary>
public static class DeviceCommands
{
    public static Command CreateDevices()
    {
        var command = new Command("devices", "List the accelerators found: type, name, memory, fp64");
        command.SetAction(parse => Devices(parse.InvocationConfiguration.Output));
        return command;
    }

    public static int Devices(TextWriter output)
    {
        var ctx = Context.Default;
        output.WriteLine($"{"device",-10}  {"type",-8}  {"memory",10}  fp64  name");
        output.WriteLine($"{"cpu",-10}  {"Cpu",-8}  {"host",10}  yes   {ctx.Cpu.Name}");
        Row(output, "ilgpu-cpu", ctx.IlgpuCpu);
        for (int i = 0; i < ctx.CudaAccelerators.Count; i++) Row(output, $"cuda:{i}", ctx.CudaAccelerators[i]);
        for (int i = 0; i < ctx.OpenCLAccelerators.Count; i++) Row(output, $"opencl:{i}", ctx.OpenCLAccelerators[i]);
        foreach (var refused in ctx.RefusedDevices) output.WriteLine($"(refused by ILGPU) {refused}");
        if (ctx.CudaAccelerators.Count == 0) output.WriteLine("(no CUDA device: no NVIDIA GPU and driver found)");
        else output.WriteLine(ctx.UsesLibDevice ? "(CUDA math: NVIDIA libdevice)" : "(CUDA math: ILGPU.Algorithms; libdevice from the CUDA SDK not found)");
        if (ctx.OpenCLAccelerators.Count == 0 && ctx.RefusedDevices.All(r => !r.StartsWith("opencl:", StringComparison.Ordinal)))
            output.WriteLine("(no OpenCL device: needs libOpenCL.so (ocl-icd-opencl-dev) and an ICD)");
        return 0;
    }

    private static void Row(TextWriter output, string id, IlgpuAccelerator a) =>
        output.WriteLine($"{id,-10}  {a.AcceleratorType,-8}  {(a.AcceleratorType == AcceleratorType.IlgpuCpu ? "host" : $"{a.MemorySize / (1 << 20),7} MiB"),10}  {(a.SupportsFloat64 ? "yes" : "no"),-4}  {a.Name}");

    public static Command CreateSelfTest()
    {
        var device = new Option<string>("--device") { Description = "cpu, ilgpu-cpu, cuda or opencl (optionally :N)", Required = true };
        var command = new Command("selftest", "Run every kernel on a device against the CPU backend; non-zero exit on any failure") { device };
        command.SetAction(parse => SelfTest(parse.GetValue(device)!, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    public static int SelfTest(string name, TextWriter output, TextWriter error)
    {
        Accelerator acc;
        try
        {
            acc = Context.Default.GetAccelerator(name);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        output.WriteLine($"selftest on {acc} against {Context.Default.Cpu}");
        output.WriteLine($"{"op",-28} {"dtype",-7} {"max abs err",12} {"max rel err",12}  result  case");
        int failures = 0, total = 0;
        foreach (var dtype in acc.SupportsFloat64 ? new[] { DType.Float32, DType.Float64 } : [DType.Float32])
            foreach (var r in DeviceSelfTest.Run(acc, dtype))
            {
                total++;
                if (!r.Pass) failures++;
                output.WriteLine($"{r.Op,-28} {r.DType.Name(),-7} {r.MaxAbsError,12:0.00e+00} {r.MaxRelError,12:0.00e+00}  {(r.Pass ? "pass" : "FAIL"),-6}  {r.Case}{(r.Error == null ? "" : "  " + r.Error)}");
            }
        output.WriteLine(failures == 0 ? $"all {total} passed" : $"{failures} of {total} FAILED");
        return failures == 0 ? 0 : 1;
    }
}
