namespace IlgpuSeg.Engine;

/// <summary>Integer indices with a shape (class labels, gather indices), kept on the host.</summary>
public sealed class IndexTensor
{
    public IndexTensor(int[] data, int[] shape)
    {
        if (Engine.Shape.Count(shape) != data.Length)
            throw new ShapeException($"index tensor: {data.Length} values do not fill shape {Engine.Shape.Format(shape)}");
        Data = data;
        Shape = shape;
    }

    public int[] Data { get; }

    public int[] Shape { get; }

    public string ShapeString => Engine.Shape.Format(Shape);
}
