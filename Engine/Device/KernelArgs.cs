using System.Runtime.InteropServices;

namespace IlgpuSeg.Engine;

/// <summary>
/// Kernel arguments as raw bytes, in order. Both backends take an argument as (size, pointer to value):
/// OpenCL's clSetKernelArg and CUDA's kernelParams, and a buffer is an 8-byte handle in both.
/// </summary>
internal sealed class KernelArgs
{
    public List<byte[]> Values { get; } = new();

    public KernelArgs Int(int v) => Add(v);

    public KernelArgs Bool(bool v) => Add(v ? 1 : 0);

    public KernelArgs ULong(ulong v) => Add(v);

    public KernelArgs Float(float v) => Add(v);

    public KernelArgs Double(double v) => Add(v);

    /// <summary>A scalar of the program's element type.</summary>
    public KernelArgs Real(DType dtype, double v) => dtype == DType.Float32 ? Add((float)v) : Add(v);

    public KernelArgs Handle(ulong handle) => Add(handle);

    public KernelArgs Buffer(MemoryBuffer buffer) => Handle(buffer switch
    {
        DeviceMemoryBuffer<float> f => f.Handle,
        DeviceMemoryBuffer<double> d => d.Handle,
        _ => throw new ArgumentException($"{buffer.Accelerator} buffer passed to a device kernel"),
    });

    /// <summary>A tensor's buffer followed by its element offset.</summary>
    public KernelArgs Tensor(Tensor t) => Buffer(t.Buffer).Int(t.Offset);

    /// <summary>A by-value struct argument; the C# layout must match the kernel's struct.</summary>
    public KernelArgs Add<T>(T value) where T : unmanaged
    {
        Values.Add(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray());
        return this;
    }
}

/// <summary>Mirror of <c>layout_t</c> in Kernels/common.h: a shape walked by up to three strided operands.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LayoutArg
{
    public const int MaxDims = 8;

    public int Rank;
    public fixed int Size[MaxDims];
    public fixed int Stride[3 * MaxDims];
    public fixed int Offset[3];

    /// <summary>
    /// The layout of <paramref name="operands"/> over <paramref name="shape"/>, merging axes that are
    /// contiguous for every operand and dropping size-1 axes, so most tensors need one or two dimensions.
    /// </summary>
    public static LayoutArg Of(int[] shape, params Tensor[] operands)
    {
        var (dims, strides) = Engine.Shape.MergeAxes(shape, operands);
        if (dims.Length > MaxDims)
            throw new NotSupportedException($"device kernels take at most {MaxDims} non-mergeable axes; shape {Engine.Shape.Format(shape)} has {dims.Length}");
        var l = new LayoutArg { Rank = dims.Length };
        for (int d = 0; d < dims.Length; d++)
        {
            l.Size[d] = dims[d];
            for (int k = 0; k < operands.Length; k++) l.Stride[k * MaxDims + d] = strides[k][d];
        }
        for (int k = 0; k < operands.Length; k++) l.Offset[k] = operands[k].Offset;
        return l;
    }
}
