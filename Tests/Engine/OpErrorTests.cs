using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Engine;

/// <summary>Bad input to an op raises a ShapeException naming the op and both shapes.</summary>
public class OpErrorTests
{
    private static void AssertNames(Action action, params string[] parts)
    {
        var message = Assert.Throws<ShapeException>(action).Message;
        foreach (var part in parts) Assert.Contains(part, message);
    }

    [Fact]
    public void ShapeMismatch()
    {
        AssertNames(() => Ops.Add(Tensor.Zeros([2, 3]), Tensor.Zeros([4])), "add", "[2, 3]", "[4]");
        AssertNames(() => Ops.Mul(Tensor.Zeros([2, 3]), Tensor.Zeros([3, 2])), "mul", "[2, 3]", "[3, 2]");
        AssertNames(() => Ops.MatMul(Tensor.Zeros([2, 3]), Tensor.Zeros([4, 5])), "matmul", "[2, 3]", "[4, 5]");
        AssertNames(() => Ops.Concat([Tensor.Zeros([2, 3]), Tensor.Zeros([3, 3])], 1), "concat", "[2, 3]", "[3, 3]");
        AssertNames(() => Ops.Stack([Tensor.Zeros([2]), Tensor.Zeros([3])], 0), "stack", "[2]", "[3]");
        AssertNames(() => Ops.Gather(Tensor.Zeros([2, 3]), 1, new IndexTensor([0, 0, 0], [3, 1])), "gather", "[3, 1]", "[2, 3]");
        AssertNames(() => Ops.Nll(Tensor.Zeros([2, 3]), new IndexTensor([0, 1, 2], [3]), null, -100), "nll_loss", "[3]", "[2, 3]");
    }

    [Fact]
    public void WrongDType()
    {
        AssertNames(() => Ops.Add(Tensor.Zeros([2]), Tensor.Zeros([2], DType.Float64)), "add", "float32", "float64", "[2]");
        AssertNames(() => Ops.MatMul(Tensor.Zeros([2, 2]), Tensor.Zeros([2, 2], DType.Float64)), "matmul", "float32", "float64");
        AssertNames(() => Tensor.Zeros([2]).ToArray<double>(), "to_array", "float32");
    }

    [Fact]
    public void IndexOutOfRange()
    {
        AssertNames(() => Ops.IndexSelect(Tensor.Zeros([2, 3]), 1, [0, 3]), "index_select", "index 3", "[2]", "[2, 3]");
        AssertNames(() => Ops.Gather(Tensor.Zeros([2, 3]), 1, new IndexTensor([0, -1, 0, 0], [2, 2])), "gather", "index -1", "[2, 2]", "[2, 3]");
        AssertNames(() => Ops.Nll(Tensor.Zeros([2, 3]), new IndexTensor([0, 5], [2]), null, -100), "nll_loss", "target 5", "[2, 3]", "[2]");
        AssertNames(() => Ops.Sum(Tensor.Zeros([2, 3]), [2]), "sum", "axis 2");
        AssertNames(() => Ops.Softmax(Tensor.Zeros([2, 3]), 3), "softmax", "axis 3");
    }
}
