using System.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace IlgpuSeg.Engine;

// Batched C[b] = A[b]·B[b] (or C[b] += A[b]·B[b]) with every operand addressed by row, column and batch strides,
// so transposed and broadcast views need no copy. A group of t × t threads (t = IlgpuAccelerator.GemmThreads) stages
// t-deep slices of a 2t × 2t block of A and B in dynamic shared memory; each thread keeps a 2 × 2 tile of C in four
// named registers and adds its products in k order, so the result does not depend on the launch.
internal sealed partial class IlgpuKernels
{
    /// <summary>Operand strides and offsets (elements) of one GEMM launch.</summary>
    internal readonly record struct GemmArgs(int M, int N, int K,
        int AOffset, int ARowStride, int AColStride, int ABatchStride,
        int BOffset, int BRowStride, int BColStride, int BBatchStride,
        int COffset, int CRowStride, int CBatchStride, int Accumulate);

    public void MatMul(Tensor a, Tensor b, Tensor y)
    {
        CheckDevice(a, b, y);
        var g = new GemmArgs(y.Shape[1], y.Shape[2], a.Shape[2],
            a.Offset, a.Strides[1], a.Strides[2], a.Strides[0],
            b.Offset, b.Strides[1], b.Strides[2], b.Strides[0],
            y.Offset, y.Strides[1], y.Strides[0], 0);
        if (IsFloat(y)) Gemm(y.Shape[0], g, View<float>(a), View<float>(b), View<float>(y));
        else Gemm(y.Shape[0], g, View<double>(a), View<double>(b), View<double>(y));
    }

    private void Gemm<T>(int batches, GemmArgs g, ArrayView<T> a, ArrayView<T> b, ArrayView<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batches == 0 || g.M == 0 || g.N == 0) return;
        var kernel = device.Kernel(GemmKernel<T>, d => d.LoadStreamKernel<GemmArgs, ArrayView<T>, ArrayView<T>, ArrayView<T>>(GemmKernel<T>));
        int t = device.GemmThreads, block = 2 * t;
        var grid = new Index3D((g.N + block - 1) / block, (g.M + block - 1) / block, batches);
        kernel(new KernelConfig(grid, new Index3D(t, t, 1), SharedMemoryConfig.RequestDynamic<T>(2 * t * block)), g, a, b, c);
    }

    private static void GemmKernel<T>(GemmArgs g, ArrayView<T> a, ArrayView<T> b, ArrayView<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // aTile[p·2t + r] = A[row0 + r, p0 + p]; bTile[p·2t + j] = B[p0 + p, col0 + j].
        int threads = Group.DimX, block = 2 * threads;
        var shared = SharedMemory.GetDynamic<T>();
        var aTile = shared.SubView(0, threads * block);
        var bTile = shared.SubView(threads * block, threads * block);
        int tx = Group.IdxX, ty = Group.IdxY, batch = Grid.IdxZ;
        int row0 = Grid.IdxY * block, col0 = Grid.IdxX * block;
        int aBase = g.AOffset + batch * g.ABatchStride, bBase = g.BOffset + batch * g.BBatchStride, cBase = g.COffset + batch * g.CBatchStride;
        int r0 = row0 + 2 * ty, r1 = r0 + 1, j0 = col0 + 2 * tx, j1 = j0 + 1;
        T c00 = T.Zero, c01 = T.Zero, c10 = T.Zero, c11 = T.Zero;
        for (int p0 = 0; p0 < g.K; p0 += threads)
        {
            // Thread (tx, ty) loads A rows r0, r1 at depth p0 + tx and B columns j0, j1 at depth p0 + ty; zeros past the edges.
            int pa = p0 + tx, pb = p0 + ty;
            aTile[tx * block + 2 * ty] = r0 < g.M && pa < g.K ? a[aBase + r0 * g.ARowStride + pa * g.AColStride] : T.Zero;
            aTile[tx * block + 2 * ty + 1] = r1 < g.M && pa < g.K ? a[aBase + r1 * g.ARowStride + pa * g.AColStride] : T.Zero;
            bTile[ty * block + 2 * tx] = j0 < g.N && pb < g.K ? b[bBase + pb * g.BRowStride + j0 * g.BColStride] : T.Zero;
            bTile[ty * block + 2 * tx + 1] = j1 < g.N && pb < g.K ? b[bBase + pb * g.BRowStride + j1 * g.BColStride] : T.Zero;
            Group.Barrier();
            for (int p = 0; p < threads; p++)
            {
                T a0 = aTile[p * block + 2 * ty], a1 = aTile[p * block + 2 * ty + 1];
                T b0 = bTile[p * block + 2 * tx], b1 = bTile[p * block + 2 * tx + 1];
                c00 += a0 * b0;
                c01 += a0 * b1;
                c10 += a1 * b0;
                c11 += a1 * b1;
            }
            Group.Barrier();
        }
        Store(g, c, cBase, r0, j0, c00);
        Store(g, c, cBase, r0, j1, c01);
        Store(g, c, cBase, r1, j0, c10);
        Store(g, c, cBase, r1, j1, c11);
    }

    private static void Store<T>(GemmArgs g, ArrayView<T> c, int cBase, int r, int j, T v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (r >= g.M || j >= g.N) return;
        int i = cBase + r * g.CRowStride + j;
        c[i] = g.Accumulate != 0 ? c[i] + v : v;
    }
}
