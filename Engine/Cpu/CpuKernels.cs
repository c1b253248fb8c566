using System.Numerics;

namespace IlgpuSeg.Engine;

/// <summary>
/// The CPU implementation of every kernel, one partial file per op family (Cpu/*Kernels.cs). Each fast
/// path has a plain scalar reference beside it that the tests compare against.
/// </summary>
internal sealed partial class CpuKernels(CpuAccelerator accelerator) : IKernels
{
    private int Threads => accelerator.Threads;

    private CpuAccelerator Accelerator => accelerator;

    internal static T[] Data<T>(Tensor t) where T : unmanaged => ((CpuMemoryBuffer<T>)t.Buffer).Array;

    internal static T Cast<T>(double v) where T : IFloatingPointIeee754<T> => T.CreateTruncating(v);
}
