using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>The fused attention op: float64 gradient checks, and parity with the composed MatMul/Softmax version.</summary>
public class AttentionTests
{
    private static Tensor Randn(int[] shape, ulong seed, DType dtype = DType.Float64) => Tensor.Normal(shape, new Generator(seed), dtype: dtype);

    private static Variable Composed(Variable q, Variable k, Variable v)
    {
        var scores = F.MulScalar(F.MatMul(q, F.Transpose(k, -1, -2)), 1 / Math.Sqrt(q.Shape[^1]));
        return F.MatMul(F.Softmax(scores, -1), v);
    }

    [Fact]
    public void GradientsPassTheCheck()
    {
        var result = GradCheck.Check(x => F.Attention(x[0], x[1], x[2]), [Randn([4, 3], 1), Randn([5, 3], 2), Randn([5, 2], 3)]);
        Assert.True(result.Passed, result.Message);
    }

    [Fact]
    public void BatchedNonContiguousGradientsPassTheCheck()
    {
        // q is a transposed view; k and v differ in length from q (cross-attention shape).
        var q = Randn([2, 3, 4], 4).Transpose(1, 2);
        var result = GradCheck.Check(x => F.Attention(x[0], x[1], x[2]), [q, Randn([2, 6, 3], 5), Randn([2, 6, 5], 6)]);
        Assert.True(result.Passed, result.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesTheComposedOps(bool float32)
    {
        var dtype = float32 ? DType.Float32 : DType.Float64;
        double tol = float32 ? 1e-5 : 1e-12;
        Tensor[] inputs = [Randn([7, 16], 7, dtype), Randn([9, 16], 8, dtype), Randn([9, 5], 9, dtype)];
        var dy = Randn([7, 5], 10, dtype);

        (double[] Y, double[][] Grads) Run(Func<Variable, Variable, Variable, Variable> f)
        {
            var x = inputs.Select(Variable.Parameter).ToArray();
            var y = f(x[0], x[1], x[2]);
            y.Backward(dy);
            return (y.Data.ToDoubleArray(), x.Select(p => p.Grad!.ToDoubleArray()).ToArray());
        }

        var fused = Run(F.Attention);
        var composed = Run(Composed);
        AssertClose(composed.Y, fused.Y, tol);
        for (int i = 0; i < 3; i++) AssertClose(composed.Grads[i], fused.Grads[i], tol);
    }

    [Fact]
    public void RowsAreConvexCombinationsOfValues()
    {
        var (_, weights) = Ops.Attention(Randn([3, 4], 11), Randn([6, 4], 12), Randn([6, 2], 13));
        var a = weights.ToArray<double>();
        for (int i = 0; i < 3; i++) Assert.Equal(1.0, a.Skip(i * 6).Take(6).Sum(), 12);
        Assert.All(a, w => Assert.True(w > 0));
    }

    [Fact]
    public void MismatchedShapesAreRejected()
    {
        Assert.Throws<ShapeException>(() => Ops.Attention(Randn([3, 4], 1), Randn([5, 3], 2), Randn([5, 2], 3)));
        Assert.Throws<ShapeException>(() => Ops.Attention(Randn([3, 4], 1), Randn([5, 4], 2), Randn([6, 2], 3)));
    }

    private static void AssertClose(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]:G9}, got {actual[i]:G9}");
    }
}
