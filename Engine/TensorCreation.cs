namespace IlgpuSeg.Engine;

public sealed partial class Tensor
{
    public static Tensor Zeros(int[] shape, DType dtype = DType.Float32, Accelerator? accelerator = null) =>
        Full(shape, 0.0, dtype, accelerator);

    public static Tensor Ones(int[] shape, DType dtype = DType.Float32, Accelerator? accelerator = null) =>
        Full(shape, 1.0, dtype, accelerator);

    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        using var _ = OpProfiler.Scope(OpFamily.AllocationCopy);
        var t = Empty(shape, dtype, accelerator);
        t.Accelerator.Kernels.Fill(t, value);
        return t;
    }

    /// <summary>start, start+step, ... below end, as in torch.arange.</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        if (step == 0 || double.IsNaN(start) || double.IsNaN(end)) throw new ShapeException($"arange: invalid range ({start}, {end}, {step})");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = start + i * step;
        return dtype == DType.Float64 ? FromArray(values, [n], accelerator) : FromArray(Array.ConvertAll(values, v => (float)v), [n], accelerator);
    }

    public static Tensor FromArray(float[] data, int[] shape, Accelerator? accelerator = null) => FromArray<float>(data, shape, accelerator);

    public static Tensor FromArray(double[] data, int[] shape, Accelerator? accelerator = null) => FromArray<double>(data, shape, accelerator);

    private static Tensor FromArray<T>(T[] data, int[] shape, Accelerator? accelerator) where T : unmanaged
    {
        using var _ = OpProfiler.Allocation();
        if (Engine.Shape.Count(shape) != data.Length)
            throw new ShapeException($"from_array: {data.Length} values do not fill shape {Engine.Shape.Format(shape)}");
        var acc = accelerator ?? Context.Default.Cpu;
        var buffer = acc.Allocate<T>(data.Length);
        buffer.CopyFromCPU(data, buffer.Start);
        return new Tensor(buffer, (int[])shape.Clone(), Engine.Shape.ContiguousStrides(shape), buffer.Start);
    }

    /// <summary>A scalar (rank 0) tensor.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32, Accelerator? accelerator = null) =>
        Full([], value, dtype, accelerator);

    /// <summary>Uniform in [low, high), from an explicit generator.</summary>
    public static Tensor Uniform(int[] shape, Generator generator, double low = 0, double high = 1, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        var t = Empty(shape, dtype, accelerator);
        t.Accelerator.Kernels.Random(t, generator.Take(t.Count), RandomDistribution.Uniform, low, high);
        return t;
    }

    /// <summary>Normal with the given mean and standard deviation, from an explicit generator.</summary>
    public static Tensor Normal(int[] shape, Generator generator, double mean = 0, double std = 1, DType dtype = DType.Float32, Accelerator? accelerator = null)
    {
        var t = Empty(shape, dtype, accelerator);
        t.Accelerator.Kernels.Random(t, generator.Take(t.Count), RandomDistribution.Normal, mean, std);
        return t;
    }

    /// <summary>The elements in row-major order, copied to the host (waits for the device).</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var expected = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64 : (DType)(-1);
        if (expected != DType) throw new ShapeException($"to_array: tensor is {DType.Name()}, asked for {typeof(T).Name}");
        var c = Contiguous();
        var result = new T[c.Count];
        c.Accelerator.Synchronize();
        ((MemoryBuffer<T>)c.Buffer).CopyToCPU(result, c.Offset);
        return result;
    }

    /// <summary>The elements as float64, whatever the dtype.</summary>
    public double[] ToDoubleArray() => DType == DType.Float64 ? ToArray<double>() : Array.ConvertAll(ToArray<float>(), v => (double)v);

    /// <summary>The only element of a one-element tensor.</summary>
    public double Item()
    {
        if (Count != 1) throw new ShapeException($"item: tensor of shape {ShapeString} has {Count} elements, not 1");
        return ToDoubleArray()[0];
    }
}
