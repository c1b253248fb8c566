using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests.Engine;

public class TensorViewTests
{
    private static Tensor Range(params int[] shape) => Tensor.Arange(0, Shape.Count(shape)).Reshape(shape);

    private static float[] Values(Tensor t) => t.ToArray<float>();

    [Fact]
    public void CreationOps()
    {
        Assert.Equal([0f, 0f, 0f], Values(Tensor.Zeros([3])));
        Assert.Equal([1f, 1f], Values(Tensor.Ones([2])));
        Assert.Equal([2.5, 2.5], Tensor.Full([2], 2.5, DType.Float64).ToArray<double>());
        Assert.Equal([1f, 1.5f, 2f, 2.5f], Values(Tensor.Arange(1, 3, 0.5)));
        Assert.Equal(7.0, Tensor.Scalar(7).Item());
        Assert.Empty(Tensor.Scalar(7).Shape);
    }

    [Fact]
    public void ViewsShareTheBufferAndReadCorrectly()
    {
        var x = Range(2, 3, 4);
        var t = x.Permute(2, 0, 1);
        Assert.Same(x.Buffer, t.Buffer);
        Assert.False(t.IsContiguous);
        Assert.Equal([4, 2, 3], t.Shape);
        Assert.Equal([0f, 4, 8, 12, 16, 20, 1, 5, 9], Values(t).Take(9));

        Assert.Equal([4f, 5, 6, 7, 8, 9, 10, 11], Values(x.Narrow(1, 1, 2).Narrow(0, 0, 1)));
        Assert.Equal([1f, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23], Values(x.Slice(2, 1, 4, 2)));
        Assert.Equal([0f, 12, 4, 16, 8, 20], Values(x.Narrow(2, 0, 1).Squeeze(2).Transpose(0, 1)));
        Assert.Equal([1, 2, 3, 4], x.Unsqueeze(0).Shape[..1].Concat(x.Shape).ToArray());
        Assert.Equal([2, 3, 4, 1], x.Unsqueeze(3).Shape);
    }

    [Fact]
    public void ExpandUsesStrideZero()
    {
        var row = Tensor.FromArray(new[] { 1f, 2f, 3f }, [1, 3]);
        var e = row.Expand(2, 2, 3);
        Assert.Equal([0, 0, 1], e.Strides);
        Assert.Equal([1f, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3], Values(e));
        Assert.Equal([2, 1, 3], row.Expand(2, -1, 3).Shape);
    }

    [Fact]
    public void ReshapeOfANonContiguousViewCopies()
    {
        var x = Range(3, 4);
        var t = x.Transpose(0, 1);
        var r = t.Reshape(2, -1);
        Assert.NotSame(x.Buffer, r.Buffer);
        Assert.Equal([0f, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], Values(r));
        var v = x.Reshape(6, 2);
        Assert.Same(x.Buffer, v.Buffer);
    }

    [Fact]
    public void ContiguousAndCopyFrom()
    {
        var x = Range(2, 3);
        var c = x.Transpose(0, 1).Contiguous();
        Assert.True(c.IsContiguous);
        Assert.Equal([3, 2], c.Shape);
        Assert.Equal([0f, 3, 1, 4, 2, 5], Values(c));
        Assert.Same(x, x.Contiguous());

        var target = Tensor.Zeros([3, 4]);
        target.Narrow(1, 1, 2).CopyFrom(Tensor.FromArray(new[] { 9f, 8f }, [2]));
        Assert.Equal([0f, 9, 8, 0, 0, 9, 8, 0, 0, 9, 8, 0], Values(target));
    }

    [Fact]
    public void DTypeConversion()
    {
        var x = Tensor.FromArray(new[] { 1.5, -2.25 }, [2]);
        var f = x.To(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal([1.5f, -2.25f], Values(f));
    }

    [Fact]
    public void BadViewsNameTheOpAndShape()
    {
        var x = Range(2, 3);
        Assert.Contains("reshape", Assert.Throws<ShapeException>(() => x.Reshape(4, 2)).Message);
        Assert.Contains("[2, 3]", Assert.Throws<ShapeException>(() => x.Reshape(4, 2)).Message);
        Assert.Contains("narrow", Assert.Throws<ShapeException>(() => x.Narrow(1, 2, 2)).Message);
        Assert.Contains("expand", Assert.Throws<ShapeException>(() => x.Expand(2, 4)).Message);
        Assert.Contains("squeeze", Assert.Throws<ShapeException>(() => x.Squeeze(0)).Message);
        Assert.Contains("permute", Assert.Throws<ShapeException>(() => x.Permute(0, 0)).Message);
        Assert.Contains("axis 2", Assert.Throws<ShapeException>(() => x.Transpose(0, 2)).Message);
    }
}
