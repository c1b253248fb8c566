using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

public class SgdTests
{
    [Fact]
    public void MatchesTorchSgdUpdateRule()
    {
        // Hand-run torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01) for two steps with gradients g1, g2.
        var p = Variable.Parameter(Tensor.FromArray(new[] { 1.0, -2.0 }, [2]));
        var sgd = new Sgd([("w", p)], lr: 0.1, momentum: 0.9, weightDecay: 0.01);
        double[] w = [1.0, -2.0], b = new double[2];
        double[][] grads = [[0.5, 0.25], [-1.0, 2.0]];
        for (int step = 0; step < 2; step++)
        {
            p.Grad = Tensor.FromArray(grads[step], [2]);
            sgd.Step();
            for (int i = 0; i < 2; i++)
            {
                double d = grads[step][i] + 0.01 * w[i];
                b[i] = step == 0 ? d : 0.9 * b[i] + d;
                w[i] -= 0.1 * b[i];
            }
            var got = p.Data.ToArray<double>();
            Assert.Equal(w[0], got[0], 14);
            Assert.Equal(w[1], got[1], 14);
        }
    }

    [Fact]
    public void StateDictRoundTripContinuesIdentically()
    {
        Variable Make() => Variable.Parameter(Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }, [3]));
        var (a, c) = (Make(), Make());
        var sa = new Sgd([("w", a)], 0.01);
        a.Grad = Tensor.FromArray(new[] { 1.0, 0.0, -1.0 }, [3]);
        sa.Step();
        c.Data.CopyFrom(a.Data);
        var sc = new Sgd([("w", c)], 0.01);
        sc.LoadStateDict(sa.StateDict());
        a.Grad = c.Grad = Tensor.FromArray(new[] { 0.5, 0.5, 0.5 }, [3]);
        sa.Step();
        sc.Step();
        Assert.Equal(a.Data.ToArray<double>(), c.Data.ToArray<double>());
        Assert.Throws<StateDictMismatchException>(() => sc.LoadStateDict(new Dictionary<string, Tensor> { ["v.momentum_buffer"] = Tensor.Zeros([3]) }));
    }

    [Fact]
    public void StepDecayFollowsMultiStepLr()
    {
        var decay = new StepDecay(1e-3);
        Assert.Equal(1e-3, decay.At(999));
        Assert.Equal(1e-3 * 0.95, decay.At(1000), 15);
        Assert.Equal(1e-3 * Math.Pow(0.95, 99), decay.At(99_500), 15);
    }
}
