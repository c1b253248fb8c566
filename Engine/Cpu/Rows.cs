using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace IlgpuSeg.Engine;

/// <summary>
/// Inline copy, clear and add of one short row (16–256 values: an im2col row of a small map, a packed GEMM panel row),
/// where the call behind Span.CopyTo / Span.Clear / TensorPrimitives.Add costs as much as the row itself.
/// </summary>
internal static unsafe class Rows
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<T>(T* src, T* dst, int count) where T : unmanaged
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + i), dst + i);
        for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count) Vector256.Store(Vector256.Load(src + i), dst + i);
        for (; i < count; i++) dst[i] = src[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Clear<T>(T* dst, int count) where T : unmanaged
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count) Vector512.Store(Vector512<T>.Zero, dst + i);
        for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count) Vector256.Store(Vector256<T>.Zero, dst + i);
        for (; i < count; i++) dst[i] = default;
    }

    /// <summary>dst[i] += src[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add<T>(T* src, T* dst, int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<T>.Count <= count; i += Vector512<T>.Count) Vector512.Store(Vector512.Load(dst + i) + Vector512.Load(src + i), dst + i);
        for (; i + Vector256<T>.Count <= count; i += Vector256<T>.Count) Vector256.Store(Vector256.Load(dst + i) + Vector256.Load(src + i), dst + i);
        for (; i < count; i++) dst[i] += src[i];
    }
}
