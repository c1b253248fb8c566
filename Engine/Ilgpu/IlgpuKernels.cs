using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

/// <summary>
/// Every kernel on an ILGPU device, one partial file per op family (Ilgpu/*Kernels.cs) holding the C# kernels
/// and their launchers side by side. Group sizes are launch parameters (<see cref="IlgpuAccelerator.ReductionGroup"/>,
/// <see cref="IlgpuAccelerator.GemmThreads"/>) with dynamic shared memory, so GPUs get wide groups and ILGPU's CPU
/// accelerator, which runs one OS thread per group thread, narrow ones. Kernels are generic over the element type T (float or double) with
/// <see cref="IReal{T}"/> for the conversions ILGPU cannot compile from .NET's generic math. House rules that keep
/// the PTX clean: no Math.FusedMultiplyAdd, no arrays or Span inside a kernel (register tiles are named scalars),
/// no atomics and no GroupExtensions.Reduce (sums are trees in shared memory in a fixed order).
/// Host int[] arguments are uploaded per call; MaxLastAxis and MaxPool2d read indices back, which waits.
/// </summary>
internal sealed partial class IlgpuKernels(IlgpuAccelerator device) : IKernels
{

    private static void CheckDevice(params Tensor?[] tensors)
    {
        foreach (var t in tensors)
            if (t != null && t.Buffer is not IlgpuMemoryBuffer<float> and not IlgpuMemoryBuffer<double>)
                throw new ArgumentException($"ILGPU kernel given a tensor on {t.Accelerator}");
    }

    private static ArrayView<T> View<T>(Tensor t) where T : unmanaged => ((IlgpuMemoryBuffer<T>)t.Buffer).View;

    /// <summary>An optional tensor's view, or <paramref name="fallback"/>'s when it is null (never read; ILGPU launchers need a real buffer).</summary>
    private static ArrayView<T> OptionalView<T>(Tensor? t, Tensor fallback) where T : unmanaged => View<T>(t ?? fallback);

    /// <summary>One group per row (or channel) of the device's reduction width, with its shared tree in dynamic shared memory.</summary>
    private KernelConfig Rows<T>(int rows) where T : unmanaged =>
        new(new Index1D(rows), new Index1D(device.ReductionGroup), SharedMemoryConfig.RequestDynamic<T>(device.ReductionGroup));

    private static bool IsFloat(Tensor t) => t.DType == DType.Float32;
}

/// <summary>What a kernel needs of its element type that .NET's generic math cannot give ILGPU (its conversions box).</summary>
internal interface IReal<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract T Of(int value);

    static abstract T Of(double value);

    /// <summary>(int)value, toward zero.</summary>
    static abstract int Truncate(T value);
}

internal readonly struct Real32 : IReal<float>
{
    public static float Of(int value) => value;

    public static float Of(double value) => (float)value;

    public static int Truncate(float value) => (int)value;
}

internal readonly struct Real64 : IReal<double>
{
    public static double Of(int value) => value;

    public static double Of(double value) => value;

    public static int Truncate(double value) => (int)value;
}

/// <summary>
/// Up to three operands walking one shape of at most <see cref="MaxDims"/> axes (merged on the host where the
/// layout allows; unused leading axes have size 1), passed by value. Named fields instead of an array, so the
/// walk stays in registers on the GPU.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Layout
{
    public const int MaxDims = 6;

    public int S0, S1, S2, S3, S4, S5;
    public int A0, A1, A2, A3, A4, A5;
    public int B0, B1, B2, B3, B4, B5;
    public int C0, C1, C2, C3, C4, C5;
    public int OffsetA, OffsetB, OffsetC;

    /// <summary>The layout of up to three operands over <paramref name="shape"/>, axes merged where every operand allows.</summary>
    public static Layout Of(int[] shape, params Tensor[] operands)
    {
        var (dims, strides) = Engine.Shape.MergeAxes(shape, operands);
        if (dims.Length > MaxDims)
            throw new NotSupportedException($"ILGPU kernels take at most {MaxDims} non-mergeable axes; shape {Engine.Shape.Format(shape)} has {dims.Length}");
        var l = new Layout();
        // Host side only: the fields in declaration order, as one span of ints.
        var f = MemoryMarshal.CreateSpan(ref Unsafe.As<Layout, int>(ref l), 4 * MaxDims + 3);
        int pad = MaxDims - dims.Length;
        for (int d = 0; d < MaxDims; d++) f[d] = d < pad ? 1 : dims[d - pad];
        for (int k = 0; k < operands.Length; k++)
        {
            for (int d = pad; d < MaxDims; d++) f[(k + 1) * MaxDims + d] = strides[k][d - pad];
            f[4 * MaxDims + k] = operands[k].Offset;
        }
        return l;
    }

    /// <summary>Buffer offsets of element <paramref name="i"/> (row-major over the shape) for the three operands.</summary>
    public readonly void Offsets(int i, out int a, out int b, out int c)
    {
        a = OffsetA;
        b = OffsetB;
        c = OffsetC;
        Step(ref i, S5, A5, B5, C5, ref a, ref b, ref c);
        Step(ref i, S4, A4, B4, C4, ref a, ref b, ref c);
        Step(ref i, S3, A3, B3, C3, ref a, ref b, ref c);
        Step(ref i, S2, A2, B2, C2, ref a, ref b, ref c);
        Step(ref i, S1, A1, B1, C1, ref a, ref b, ref c);
        Step(ref i, S0, A0, B0, C0, ref a, ref b, ref c);
    }

    private static void Step(ref int i, int size, int sa, int sb, int sc, ref int a, ref int b, ref int c)
    {
        int index = i % size;
        i /= size;
        a += index * sa;
        b += index * sb;
        c += index * sc;
    }
}
