using IlgpuSeg.Autograd;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Autograd;

/// <summary>
/// Central-difference gradient checks in float64 on the CPU accelerator for every differentiable op, with
/// broadcasting and non-contiguous (transposed, sliced, expanded) inputs among the cases.
/// </summary>
public class GradCheckTests
{
    private static Tensor Randn(int[] shape, ulong seed) => Tensor.Normal(shape, new Generator(seed), dtype: DType.Float64);

    private static Tensor Positive(int[] shape, ulong seed) => Tensor.Uniform(shape, new Generator(seed), 0.5, 2.0, DType.Float64);

    /// <summary>A [rows, cols] tensor that is a transposed view (non-contiguous).</summary>
    private static Tensor TransposedRandn(int rows, int cols, ulong seed) => Randn([cols, rows], seed).Transpose(0, 1);

    private static void Check(Func<Variable[], Variable> f, params Tensor[] inputs)
    {
        var result = GradCheck.Check(f, inputs);
        Assert.True(result.Passed, result.Message);
    }

    public static TheoryData<string> BinaryCases => new() { "add", "sub", "mul", "div", "pow" };

    private static Variable Binary(string op, Variable a, Variable b) => op switch
    {
        "add" => F.Add(a, b),
        "sub" => F.Sub(a, b),
        "mul" => F.Mul(a, b),
        "div" => F.Div(a, b),
        "pow" => F.Pow(a, b),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinarySameShape(string op) =>
        Check(v => Binary(op, v[0], v[1]), Positive([3, 4], 1), Positive([3, 4], 2));

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryBroadcastBothSides(string op) =>
        Check(v => Binary(op, v[0], v[1]), Positive([2, 1, 4], 3), Positive([3, 1], 4));

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryNonContiguous(string op) =>
        Check(v => Binary(op, v[0], v[1]), Positive([5, 3], 5).Transpose(0, 1), Positive([3, 10], 6).Slice(1, 1, 10, 2));

    public static TheoryData<string> UnaryCases => new()
    {
        "neg", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "silu", "clamp", "pow_scalar", "add_scalar", "mul_scalar",
    };

    private static Variable Unary(string op, Variable x) => op switch
    {
        "neg" => F.Neg(x),
        "exp" => F.Exp(x),
        "log" => F.Log(F.Abs(x)),
        "sqrt" => F.Sqrt(F.Abs(x)),
        "abs" => F.Abs(x),
        "relu" => F.Relu(x),
        "sigmoid" => F.Sigmoid(x),
        "tanh" => F.Tanh(x),
        "silu" => F.Silu(x),
        "clamp" => F.Clamp(x, -0.5, 0.7),
        "pow_scalar" => F.PowScalar(F.Abs(x), 2.5),
        "add_scalar" => F.AddScalar(x, 3),
        "mul_scalar" => F.MulScalar(x, -1.5),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryContiguous(string op) => Check(v => Unary(op, v[0]), Randn([4, 5], 11));

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryNonContiguous(string op) => Check(v => Unary(op, v[0]), TransposedRandn(3, 6, 12));

    [Theory]
    [InlineData(new[] { 0 }, false)]
    [InlineData(new[] { 1 }, true)]
    [InlineData(new[] { 0, 2 }, false)]
    [InlineData(new[] { -1 }, true)]
    public void SumMeanVarianceOverAxes(int[] axes, bool keepDim)
    {
        var x = Randn([3, 4, 5], 21);
        Check(v => F.Sum(v[0], axes, keepDim), x);
        Check(v => F.Mean(v[0], axes, keepDim), x);
        Check(v => F.Variance(v[0], axes, 1, keepDim), x);
        Check(v => F.Variance(v[0], axes, 0, keepDim), x);
    }

    [Fact]
    public void NormAndItsZeroVectorGradient()
    {
        Check(v => F.Norm(v[0], 1), Randn([3, 4], 25));
        Check(v => F.Norm(v[0], 0, keepDim: true), TransposedRandn(3, 4, 26));
        // An all-zero row: PyTorch's gradient there is 0, not NaN.
        var x = Variable.Parameter(Tensor.Zeros([2, 3], DType.Float64));
        F.Sum(F.Norm(x, 1)).Backward();
        Assert.All(x.Grad!.ToArray<double>(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void ReductionsOfViews()
    {
        Check(v => F.Sum(v[0]), TransposedRandn(4, 6, 22));
        Check(v => F.Mean(F.Expand(v[0], 3, 4), [0]), Randn([1, 4], 23));
        Check(v => F.Variance(v[0], [1]), TransposedRandn(3, 7, 24));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(-1, false)]
    public void Max(int axis, bool keepDim)
    {
        Check(v => F.Max(v[0], axis, keepDim).Values, Randn([3, 4, 5], 31));
        Check(v => F.Max(v[0], axis, keepDim).Values, Randn([5, 4, 3], 32).Permute(2, 1, 0));
    }

    [Fact]
    public void MatMul2D() => Check(v => F.MatMul(v[0], v[1]), Randn([3, 5], 41), Randn([5, 4], 42));

    [Fact]
    public void MatMulTransposedOperands() =>
        Check(v => F.MatMul(v[0], v[1]), TransposedRandn(3, 5, 43), TransposedRandn(5, 4, 44));

    [Fact]
    public void MatMulBatched() => Check(v => F.MatMul(v[0], v[1]), Randn([2, 3, 5], 45), Randn([2, 5, 4], 46));

    [Fact]
    public void MatMulBroadcastBatch() => Check(v => F.MatMul(v[0], v[1]), Randn([2, 1, 3, 5], 47), Randn([3, 5, 2], 48));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void SoftmaxAndLogSoftmax(int axis)
    {
        Check(v => F.Softmax(v[0], axis), Randn([3, 4, 5], 51));
        Check(v => F.LogSoftmax(v[0], axis), Randn([3, 4, 5], 52));
        Check(v => F.Softmax(v[0], axis), Randn([5, 4, 3], 53).Permute(2, 1, 0));
        Check(v => F.LogSoftmax(v[0], axis), Randn([5, 4, 3], 54).Permute(2, 1, 0));
    }

    [Fact]
    public void ConcatAndStack()
    {
        Check(v => F.Concat([v[0], v[1], v[2]], 1), Randn([2, 3], 61), TransposedRandn(2, 4, 62), Randn([2, 1], 63));
        Check(v => F.Stack([v[0], v[1]], 0), Randn([2, 3], 64), TransposedRandn(2, 3, 65));
        Check(v => F.Stack([v[0], v[1]], 2), Randn([2, 3], 66), Randn([2, 3], 67));
    }

    [Fact]
    public void IndexSelectWithRepeats()
    {
        Check(v => F.IndexSelect(v[0], 1, [3, 0, 3, 2]), Randn([2, 5, 3], 71));
        Check(v => F.IndexSelect(v[0], 0, [1, 1]), TransposedRandn(3, 4, 72));
    }

    [Fact]
    public void GatherWithRepeats()
    {
        var index = new IndexTensor([0, 2, 2, 1, 1, 1, 0, 0], [2, 4]);
        Check(v => F.Gather(v[0], 1, index), Randn([2, 3], 73));
        Check(v => F.Gather(v[0], 1, index), TransposedRandn(2, 3, 74));
        Check(v => F.Gather(v[0], 0, new IndexTensor([1, 0, 1, 1, 1, 0], [2, 3])), Randn([2, 3], 75));
    }

    [Fact]
    public void ViewOps()
    {
        var x = Randn([2, 3, 4], 81);
        Check(v => F.Mul(F.Reshape(v[0], 6, -1), F.Reshape(v[0], 6, 4)), x);
        Check(v => F.Exp(F.Reshape(v[0], 12, 2)), x.Permute(2, 0, 1));
        Check(v => F.Exp(F.Permute(v[0], 2, 0, 1)), x);
        Check(v => F.Exp(F.Transpose(v[0], 0, 2)), x);
        Check(v => F.Exp(F.Narrow(v[0], 1, 1, 2)), x);
        Check(v => F.Exp(F.Slice(v[0], 2, 0, 4, 3)), x);
        Check(v => F.Exp(F.Expand(v[0], 2, 3, 4)), Randn([3, 1], 82));
        Check(v => F.Exp(F.Squeeze(F.Unsqueeze(v[0], 1), 1)), x);
        Check(v => F.Exp(F.Contiguous(v[0])), x.Transpose(0, 1));
    }

    [Theory]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.None)]
    public void CrossEntropyWithWeightsAndIgnoreIndex(Reduction reduction)
    {
        var target = new IndexTensor([0, 2, -100, 1, 2, 2, 0, -100], [2, 2, 2]);
        var weight = Tensor.FromArray(new[] { 0.2, 1.0, 3.0 }, [3]);
        Check(v => F.CrossEntropy(v[0], target, weight, -100, reduction), Randn([2, 3, 2, 2], 91));
        Check(v => F.CrossEntropy(v[0], new IndexTensor([1, 0, 2], [3]), null, -100, reduction), TransposedRandn(3, 3, 92));
    }

    [Fact]
    public void NllLossWithIgnoreIndexAsClass()
    {
        var target = new IndexTensor([0, 1, 1, 2], [4]);
        Check(v => F.NllLoss(F.LogSoftmax(v[0], 1), target, Tensor.FromArray(new[] { 1.0, 2.0, 0.5 }, [3]), ignoreIndex: 1), Randn([4, 3], 93));
    }

    [Theory]
    [InlineData(Reduction.Mean)]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.None)]
    public void MseLoss(Reduction reduction)
    {
        Check(v => F.MseLoss(v[0], v[1], reduction), Randn([3, 4], 95), TransposedRandn(3, 4, 96));
    }
}
