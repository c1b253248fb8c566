using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;
using IlgpuSeg.Models;

namespace IlgpuSeg.Tests.Models;

public class AdamTests
{
    [Fact]
    public void MatchesTorchAdamUpdateRule()
    {
        // Hand-run torch.optim.Adam(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01) for three steps with gradients g1..g3.
        var p = Variable.Parameter(Tensor.FromArray(new[] { 1.0, -2.0 }, [2]));
        var adam = new Adam([("w", p)], lr: 0.1, weightDecay: 0.01);
        double[] w = [1.0, -2.0], m = new double[2], v = new double[2];
        double[][] grads = [[0.5, 0.25], [-1.0, 2.0], [0.0, -3.0]];
        for (int step = 1; step <= 3; step++)
        {
            p.Grad = Tensor.FromArray(grads[step - 1], [2]);
            adam.Step();
            for (int i = 0; i < 2; i++)
            {
                double d = grads[step - 1][i] + 0.01 * w[i];
                m[i] = 0.9 * m[i] + 0.1 * d;
                v[i] = 0.999 * v[i] + 0.001 * d * d;
                w[i] -= 0.1 * (m[i] / (1 - Math.Pow(0.9, step))) / (Math.Sqrt(v[i] / (1 - Math.Pow(0.999, step))) + 1e-8);
            }
            var got = p.Data.ToArray<double>();
            Assert.Equal(w[0], got[0], 13);
            Assert.Equal(w[1], got[1], 13);
        }
        Assert.Equal(3, adam.StateDict()["w.step"].Item());
    }

    [Fact]
    public void StateDictRoundTripContinuesIdentically()
    {
        Variable Make() => Variable.Parameter(Tensor.FromArray(new[] { 1f, 2f, 3f }, [3]));
        var (a, c) = (Make(), Make());
        var sa = new Adam([("w", a)], 0.01);
        var sc = new Adam([("w", c)], 0.01);
        foreach (var (p, s) in new[] { (a, sa), (c, sc) })
        {
            p.Grad = Tensor.FromArray(new[] { 1f, 0f, -1f }, [3]);
            s.Step();
        }
        var resumed = new Adam([("w", c)], 0.01);
        resumed.LoadStateDict(sc.StateDict());
        a.Grad = c.Grad = Tensor.FromArray(new[] { 0.5f, -2f, 1f }, [3]);
        sa.Step();
        resumed.Step();
        Assert.Equal(a.Data.ToArray<float>(), c.Data.ToArray<float>());
        Assert.Throws<StateDictMismatchException>(() => resumed.LoadStateDict(new Dictionary<string, Tensor> { ["v.exp_avg"] = Tensor.Zeros([3]) }));
    }

    [Fact]
    public void IlgpuCpuMatchesTheCpu()
    {
        double[] Run(Accelerator acc)
        {
            var p = Variable.Parameter(Tensor.Uniform([257], new Generator(3), -1, 1, DType.Float32, acc));
            var adam = new Adam([("w", p)], 0.01, weightDecay: 1e-3);
            for (int step = 0; step < 3; step++)
            {
                p.Grad = Tensor.Uniform([257], new Generator(10 + (ulong)step), -1, 1, DType.Float32, acc);
                adam.Step();
            }
            return p.Data.ToDoubleArray();
        }
        var cpu = Run(Context.Default.Cpu);
        var device = Run(Context.Default.IlgpuCpu);
        for (int i = 0; i < cpu.Length; i++) Assert.Equal(cpu[i], device[i], 5);
    }
}
