using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Engine;

/// <summary>The profiler's counters are process-wide: these tests must not run alongside other tests' ops.</summary>
[CollectionDefinition(nameof(OpProfilerCollection), DisableParallelization = true)]
public sealed class OpProfilerCollection;

[Collection(nameof(OpProfilerCollection))]
public class OpProfilerTests
{
    /// <summary>conv → batch norm → ReLU → mean, backward, one SGD step; returns the loss and the updated parameters.</summary>
    private static (double Loss, float[][] Parameters) TinyStep(bool profile)
    {
        var acc = Context.Default.CreateCpuAccelerator(2);
        var gen = new Generator(7);
        var conv = new Conv2d(3, 4, 3, gen, padding: 1, accelerator: acc);
        var bn = new BatchNorm2d(4, accelerator: acc);
        var parameters = new[] { ("conv.weight", conv.Weight) }.Concat(bn.NamedParameters("bn.")).ToList();
        var sgd = new Sgd(parameters, lr: 0.1);
        var x = new Variable(Tensor.Normal([2, 3, 6, 6], gen, accelerator: acc));
        OpProfiler.Reset();
        OpProfiler.Enabled = profile;
        try
        {
            var loss = F.Mean(F.Relu(bn.Forward(conv.Forward(x))));
            loss.Backward();
            sgd.Step();
            return (loss.Item(), parameters.Select(p => p.Item2.Data.ToArray<float>()).ToArray());
        }
        finally
        {
            OpProfiler.Enabled = false;
        }
    }

    [Fact]
    public void AttributesATinyStepToTheFamiliesThatRan()
    {
        TinyStep(profile: true);
        var times = OpProfiler.Times();
        var calls = OpProfiler.CallCounts();
        // F.Mean reduces with Ops.Sum, which the profiler files under the prototype head's family.
        foreach (var family in new[] { OpFamily.Convolution, OpFamily.BatchNorm, OpFamily.Elementwise, OpFamily.PrototypeHead, OpFamily.Optimizer, OpFamily.AllocationCopy })
        {
            Assert.True(calls[family] > 0, $"{family}: no call recorded");
            Assert.True(times[family] > TimeSpan.Zero, $"{family}: no time recorded");
        }
        Assert.Equal(1, calls[OpFamily.Optimizer]);
        Assert.Equal(2, calls[OpFamily.Convolution]); // forward and backward-weight (the input needs no gradient)
        foreach (var family in new[] { OpFamily.PoolingResize, OpFamily.Loss })
        {
            Assert.Equal(0, calls[family]);
            Assert.Equal(TimeSpan.Zero, times[family]);
        }
    }

    [Fact]
    public void OpsCalledInsideAnOpBelongToIt()
    {
        var x = Tensor.Normal([2, 3, 4, 4], new Generator(1));
        var (mean, variance) = (Tensor.Zeros([3]), Tensor.Ones([3]));
        OpProfiler.Reset();
        OpProfiler.Enabled = true;
        try
        {
            Ops.BatchNorm(x, mean, variance, null, null, training: true); // updates the running statistics with Add and MulScalar
        }
        finally
        {
            OpProfiler.Enabled = false;
        }
        var calls = OpProfiler.CallCounts();
        Assert.Equal(1, calls[OpFamily.BatchNorm]);
        Assert.Equal(0, calls[OpFamily.Elementwise]);
        Assert.True(calls[OpFamily.AllocationCopy] > 0, "allocations inside batch norm are timed on their own");
    }

    [Fact]
    public void ResultsAreBitwiseIdenticalWithTheProfilerOnAndOff()
    {
        var off = TinyStep(profile: false);
        var on = TinyStep(profile: true);
        Assert.Equal(BitConverter.DoubleToInt64Bits(off.Loss), BitConverter.DoubleToInt64Bits(on.Loss));
        Assert.Equal(off.Parameters.Length, on.Parameters.Length);
        for (int i = 0; i < off.Parameters.Length; i++)
            Assert.Equal(off.Parameters[i].Select(BitConverter.SingleToInt32Bits), on.Parameters[i].Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void RecordsNothingWhenOff()
    {
        TinyStep(profile: false);
        Assert.All(OpProfiler.CallCounts().Values, c => Assert.Equal(0, c));
    }
}
