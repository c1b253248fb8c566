using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests;

public class SmokeTests
{
    [Fact]
    public void DTypeSizes()
    {
        Assert.Equal(4, DType.Float32.SizeInBytes());
        Assert.Equal(8, DType.Float64.SizeInBytes());
    }
}
