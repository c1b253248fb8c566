using IlgpuSeg.Engine;

namespace IlgpuSeg.Cli.Training;

/// <summary>The --device option: a CPU accelerator with the requested threads, or a device by name.</summary>
public static class Accelerators
{
    public static Accelerator Select(string device, int threads) =>
        device == "cpu" ? Context.Default.CreateCpuAccelerator(threads) : Context.Default.GetAccelerator(device);
}
