using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

public class TapeTests
{
    private static Variable P(params double[] values) => Variable.Parameter(Tensor.FromArray(values, [values.Length]));

    [Fact]
    public void GradientsAccumulateAcrossBackwardPasses()
    {
        var x = P(1, 2, 3);
        F.Sum(F.Mul(x, x)).Backward();
        Assert.Equal([2.0, 4.0, 6.0], x.Grad!.ToArray<double>());
        F.Sum(F.MulScalar(x, 10)).Backward();
        Assert.Equal([12.0, 14.0, 16.0], x.Grad!.ToArray<double>());
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void AVariableUsedTwiceGetsBothContributions()
    {
        var x = P(3);
        var y = x * x * x + x; // 3x² + 1 = 28 at 3
        y.Backward();
        Assert.Equal(28.0, x.Grad!.Item());
    }

    [Fact]
    public void NoGradRecordsNothing()
    {
        var x = P(1, 2);
        Variable y;
        using (Tape.NoGrad()) y = F.Exp(x);
        Assert.False(y.RequiresGrad);
        Assert.Equal(0, Tape.Count);
        Assert.Throws<InvalidOperationException>(() => F.Sum(y).Backward());
    }

    [Fact]
    public void DetachStopsTheGradient()
    {
        var x = P(2);
        var y = F.Mul(x, F.Exp(x).Detach()); // d/dx = e^2, not e^2 (1 + x)
        y.Backward();
        Assert.Equal(Math.Exp(2), x.Grad!.Item(), 12);
    }

    [Fact]
    public void BackwardClearsTheTapeAndRejectsNonScalars()
    {
        var x = P(1, 2);
        var y = F.Exp(x);
        Assert.Throws<ShapeException>(() => y.Backward());
        y.Backward(Tensor.Ones([2], DType.Float64));
        Assert.Equal(0, Tape.Count);
        Assert.Equal(Math.Exp(2), x.Grad!.ToArray<double>()[1], 12);
    }

    [Fact]
    public void LeafGradIsAFreshContiguousTensor()
    {
        var a = P(1, 2);
        var b = P(3, 4);
        F.Sum(F.Add(a, b)).Backward();
        Assert.NotSame(a.Grad, b.Grad);
        Assert.True(a.Grad!.IsContiguous);
    }
}

public class GradCheckSelfTests
{
    [Fact]
    public void AWrongBackwardRuleFailsTheCheck()
    {
        // exp with a backward that forgets a factor: the checker must notice.
        static Variable BadExp(Variable x) => Tape.Record("bad_exp", Ops.Exp(x.Data), [x], g => [Ops.MulScalar(g, 2)]);
        var result = GradCheck.Check(v => BadExp(v[0]), [Tensor.Normal([3], new Generator(1), dtype: DType.Float64)]);
        Assert.False(result.Passed, result.Message);
        Assert.Contains("FAILED", result.Message);
    }
}
