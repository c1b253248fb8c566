using IlgpuSeg.Cli.Commands;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Cli;

public class DeviceCommandTests
{
    [Fact]
    public void DevicesListsTheCpuBackendsAndSaysWhyOthersAreMissingOrRefused()
    {
        var output = new StringWriter();
        Assert.Equal(0, DeviceCommands.Devices(output));
        var text = output.ToString();
        Assert.Contains("ilgpu-cpu", text);
        Assert.Contains("IlgpuCpu", text);
        foreach (var refused in Context.Default.RefusedDevices) Assert.Contains(refused, text);
        if (Context.Default.CudaAccelerators.Count == 0) Assert.Contains("no CUDA device", text);
    }

    [Fact]
    public void SelftestOnAMissingDeviceIsOneClearLineAndExitOne()
    {
        if (Context.Default.CudaAccelerators.Count > 0) return; // a machine with a GPU has it
        var (output, error) = (new StringWriter(), new StringWriter());
        Assert.Equal(1, DeviceCommands.SelfTest("cuda", output, error));
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: accelerator 'cuda' not found", lines[0]);
    }
}
