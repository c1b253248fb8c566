using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

/// <summary>The one-pass SGD kernel rounds exactly as the separate tensor ops did, so trainings keep their numbers.</summary>
public class SgdFusedStepTests
{
    [Theory]
    [InlineData(0.9, 5e-4)]
    [InlineData(0.9, 0.0)]
    [InlineData(0.0, 1e-2)]
    public void EqualsTheUnfusedOpsBitForBit(double momentum, double weightDecay)
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var p = Variable.Parameter(Tensor.Uniform([3, 37], new Generator(1), -1, 1, accelerator: acc));
        var reference = p.Data.Clone();
        var sgd = new Sgd([("w", p)], lr: 0.037, momentum, weightDecay) { LrScale = _ => 0.3 };
        Tensor? buffer = null;
        for (int step = 0; step < 3; step++)
        {
            var g = Tensor.Uniform([3, 37], new Generator(10 + (ulong)step), -2, 2, accelerator: acc);
            p.Grad = g;
            sgd.Step();
            // The update as Sgd.Step wrote it before the fusion.
            var d = weightDecay == 0 ? g : Ops.Add(g, Ops.MulScalar(reference, weightDecay));
            if (momentum != 0) buffer = d = buffer == null ? d.Clone() : Ops.Add(Ops.MulScalar(buffer, momentum), d);
            reference = Ops.Sub(reference, Ops.MulScalar(d, 0.037 * 0.3));
            Assert.Equal(reference.ToArray<float>(), p.Data.ToArray<float>());
            if (momentum != 0) Assert.Equal(buffer!.ToArray<float>(), sgd.StateDict()["w.momentum_buffer"].ToArray<float>());
            else Assert.Empty(sgd.StateDict());
        }
    }

    [Fact]
    public void MomentumBuffersOutliveTheStepScope()
    {
        var acc = Context.Default.CreateCpuAccelerator(1);
        var p = Variable.Parameter(Tensor.Ones([4], accelerator: acc));
        var sgd = new Sgd([("w", p)], lr: 0.5);
        using (TensorScope.Open())
        {
            p.Grad = Tensor.Ones([4], accelerator: acc);
            sgd.Step();
        }
        var state = sgd.StateDict()["w.momentum_buffer"].ToArray<float>();
        Assert.All(state, v => Assert.Equal(1f + 5e-4f, v));
    }
}
