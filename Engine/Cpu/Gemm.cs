using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuSeg.Engine;

/// <summary>
/// Row-major general matrix multiply, C = alpha·op(A)·op(B) + beta·C, in the GotoBLAS/BLIS style:
/// op(A) is packed into MR-row micro-panels (an mc×kc block, once per K block), op(B) into NR-column
/// micro-panels (a kc×nc block sized for L2), both shared by all threads, and a register-blocked FMA
/// micro-kernel computes MR×NR tiles of C. Transposed operands are handled by the packing routines.
/// <para>
/// Determinism: every element of C gets exactly the same sequence of floating-point operations
/// whatever the thread count — the K blocking depends only on k, each micro-tile sums its kc block
/// in order, and the blocks are added to C in order. Threads only choose which tiles they compute.
/// </para>
/// </summary>
public static unsafe class Gemm
{
    // Rows of an A micro-panel. 6 rows × 4 zmm columns = 24 accumulators (+4 B vectors + 1 broadcast)
    // fit in the 32 AVX-512 registers; the AVX2 path uses 6 × 2 ymm = 12 of 16 registers.
    const int MR = 6;

    // Depth of one K block. The kernel streams an MR×KC A micro-panel from L1 (6 KB / 12 KB).
    const int KC = 256;

    // Bytes for one packed kc×nc B block; it is re-read once per A micro-panel, so it must sit in L2 (1 MB on Zen 5).
    const int BBlockBytes = 512 * 1024;

    // Bytes for one packed mc×kc A block. Its micro-panels are streamed into L1 one at a time, so it need not
    // fit a cache; it bounds memory and lets one packing of A serve every B block (4 MB: m = 4096 at kc = 256).
    const int ABlockBytes = 4 * 1024 * 1024;

    // A rows per packing task.
    const int MC = 4 * MR;

    // Fewest work tiles per compute phase, so that dynamic scheduling balances the threads to a few percent.
    const int MinTiles = 32;

    // Below this many multiply-adds, a parallel loop costs more than it saves.
    const long ParallelMinWork = 1L << 21;

    // ---------------------------------------------------------------- public API

    /// <summary>
    /// Single-precision GEMM (see class remarks). beta == 0 means C is not read. With <paramref name="groups"/> &gt; 1 the n
    /// columns of B and C are that many side-by-side matrices of n / groups columns, group g's starting at b + g·bGroupStride
    /// and c + g·cGroupStride: a batch of images sharing A (a 1×1 convolution), so A is packed once for all of them.
    /// Each element gets the same operations as in a GEMM per group.
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, int threads, int groups = 1, long bGroupStride = 0, long cGroupStride = 0)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, groups, bGroupStride, cGroupStride);

    /// <summary>Double-precision GEMM, as <see cref="Sgemm"/>.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, double* a, int lda,
        double* b, int ldb, double beta, double* c, int ldc, int threads, int groups = 1, long bGroupStride = 0, long cGroupStride = 0)
        => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, groups, bGroupStride, cGroupStride);

    /// <summary>Plain triple-loop GEMM with the same contract; the tests check the fast path against it.</summary>
    public static void Reference<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda,
        T* b, int ldb, T beta, T* c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    T bv = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                    sum += av * bv;
                }
                T* cij = c + (long)i * ldc + j;
                *cij = beta == T.Zero ? alpha * sum : alpha * sum + beta * *cij;
            }
        }
    }

    // ---------------------------------------------------------------- driver

    enum KernelKind { Avx512, Avx2, Scalar }

    static readonly KernelKind Kind =
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? KernelKind.Avx512
        : Fma.IsSupported && Avx2.IsSupported && Vector256.IsHardwareAccelerated ? KernelKind.Avx2
        : KernelKind.Scalar;

    // Columns of a B micro-panel for the selected kernel.
    static int NrOf<T>() where T : unmanaged => Kind switch
    {
        KernelKind.Avx512 => 4 * Vector512<T>.Count,
        KernelKind.Avx2 => 2 * Vector256<T>.Count,
        _ => 8,
    };

    static void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda,
        T* b, int ldb, T beta, T* c, int ldc, int threads, int groups, long bGroupStride, long cGroupStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groups, 1);
        if (n % groups != 0) throw new ArgumentException($"gemm: {n} columns do not split into {groups} groups");
        if (m == 0 || n == 0) return;
        int nr = NrOf<T>(), groupCols = n / groups;
        if (groups > 1 && (transB || groupCols % nr != 0 || k == 0 || alpha == T.Zero))
        {
            // One micro-panel would straddle two groups (or there is nothing to share): a GEMM per group.
            for (int g = 0; g < groups; g++)
                Run(transA, transB, m, groupCols, k, alpha, a, lda, b + g * bGroupStride, ldb, beta, c + g * cGroupStride, ldc, threads, 1, 0, 0);
            return;
        }
        if (k == 0 || alpha == T.Zero)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        // Even K blocks (e.g. k = 300 → 2 × 150, not 256 + 44), fixed by k alone.
        int kcMax = EvenBlock(k, KC, 1);
        // Widest B block that fits the L2 budget, then evened out over n.
        int ncMax = EvenBlock(n, Math.Max(nr, BBlockBytes / (kcMax * sizeof(T)) / nr * nr), nr);
        // Tallest A block within its budget; it is packed once per K block and shared by all column blocks.
        int mcMax = EvenBlock(m, Math.Max(MC, ABlockBytes / (kcMax * sizeof(T)) / MC * MC), MC);

        // Two buffers each, so the next block is packed while the current one is computed.
        nuint aBytes = (nuint)mcMax * (nuint)kcMax * (nuint)sizeof(T), bBytes = (nuint)kcMax * (nuint)ncMax * (nuint)sizeof(T);
        T* aPack = (T*)PackBuffer.ForCurrentThread(ref t_aBuffer, 2 * aBytes);
        T* bPack = (T*)PackBuffer.ForCurrentThread(ref t_bBuffer, 2 * bBytes);
        T*[] aBuffers = [aPack, (T*)((byte*)aPack + aBytes)], bBuffers = [bPack, (T*)((byte*)bPack + bBytes)];

        // Loop order: K block → A block → B block. C gets one read-modify-write per K block, in K order.
        var blocks = new List<Block<T>>();
        int aIndex = 0;
        for (int pc = 0; pc < k; pc += kcMax)
        {
            for (int ic = 0; ic < m; ic += mcMax, aIndex ^= 1)
            {
                for (int jc = 0; jc < n; jc += ncMax)
                {
                    var block = new Block<T>
                    {
                        P0 = pc, Kc = Math.Min(kcMax, k - pc), I0 = ic, Mc = Math.Min(mcMax, m - ic), J0 = jc, Nc = Math.Min(ncMax, n - jc),
                        Beta = pc == 0 ? beta : T.One, BetaZero = pc == 0 && beta == T.Zero,
                        PacksA = jc == 0, APack = aBuffers[aIndex], BPack = bBuffers[blocks.Count & 1],
                    };
                    block.MPanels = (block.Mc + MR - 1) / MR;
                    block.NPanels = (block.Nc + nr - 1) / nr;
                    // Work tiles are one A micro-panel × a column slice; enough of them that threads finish together.
                    block.NSplit = Math.Min(block.NPanels, (MinTiles + block.MPanels - 1) / block.MPanels);
                    blocks.Add(block);
                }
            }
        }

        var job = new Job<T>
        {
            TransA = transA, TransB = transB, Lda = lda, Ldb = ldb, Ldc = ldc, A = a, B = b, C = c, Alpha = alpha, Nr = nr,
            GroupCols = groups > 1 ? groupCols : 0, BGroupStride = bGroupStride, CGroupStride = cGroupStride,
            Next = blocks[0],
        };
        int regionThreads = (long)m * n * k >= ParallelMinWork ? threads : 1;
        Action<int> runTask = job.RunTask;
        // Phase i computes block i−1 and packs block i; phase 0 only packs, the last only computes.
        for (int i = 0; i <= blocks.Count; i++)
        {
            job.Current = i > 0 ? blocks[i - 1] : default;
            job.Next = i < blocks.Count ? blocks[i] : default;
            int tasks = job.Current.Tiles + job.Next.PackTasks(nr);
            CpuParallel.Tasks(regionThreads, tasks, runTask);
        }
    }

    const int PanelsPerPackTask = 2;

    // Block size ≤ cap (a multiple of unit) that splits total into equal-as-possible blocks.
    static int EvenBlock(int total, int cap, int unit)
    {
        int blocks = (total + cap - 1) / cap;
        int size = (total + blocks - 1) / blocks;
        return (size + unit - 1) / unit * unit;
    }

    // k == 0 or alpha == 0: C = beta·C, with beta == 0 overwriting (C may hold NaN).
    static void ScaleC<T>(int m, int n, T beta, T* c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            T* row = c + (long)i * ldc;
            for (int j = 0; j < n; j++) row[j] = beta == T.Zero ? T.Zero : beta * row[j];
        }
    }

    /// <summary>One step of the blocked loop: depth [P0, P0+Kc) × rows [I0, I0+Mc) × columns [J0, J0+Nc) of C.</summary>
    struct Block<T> where T : unmanaged
    {
        public int P0, Kc, I0, Mc, J0, Nc, MPanels, NPanels, NSplit;
        public T Beta;
        public bool BetaZero;
        // Whether this block starts a new A block (otherwise APack already holds it).
        public bool PacksA;
        public T* APack, BPack;

        public readonly int Tiles => MPanels * NSplit;
        public readonly int ATasks => PacksA ? (Mc + MC - 1) / MC : 0;
        public readonly int PackTasks(int nr) => ATasks + ((Nc + nr - 1) / nr + PanelsPerPackTask - 1) / PanelsPerPackTask;
    }

    /// <summary>State of one GEMM call; the parallel loops call RunTask with a task index.</summary>
    sealed class Job<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool TransA, TransB;
        public int Lda, Ldb, Ldc, Nr;
        public T* A, B, C;
        // Columns per group (0: one group); a micro-panel never straddles two (GroupCols is a multiple of NR).
        public int GroupCols;
        public long BGroupStride, CGroupStride;
        public T Alpha;
        public Block<T> Current, Next;

        /// <summary>Offset of column j from the first column of B or C, given the distance between their groups.</summary>
        long Column(int j, long groupStride) => GroupCols == 0 ? j : j / GroupCols * groupStride + j % GroupCols;

        /// <summary>Tasks [0, Current.Tiles) compute tiles of the current block; the rest pack the next block.</summary>
        public void RunTask(int task)
        {
            if (task < Current.Tiles) ComputeTile(in Current, task);
            else if ((task -= Current.Tiles) < Next.ATasks) PackA(in Next, task);
            else PackB(in Next, task - Next.ATasks);
        }

        /// <summary>Packs rows [I0 + group·MC, +MC) × depth [P0, P0+Kc) of op(A) into MR-row micro-panels, zero-padded.</summary>
        void PackA(in Block<T> blk, int group)
        {
            int kc = blk.Kc;
            int first = group * MC, rows = Math.Min(MC, blk.Mc - first);
            T* dst = blk.APack + (long)first * kc;
            for (int ir = 0; ir < rows; ir += MR, dst += MR * kc)
            {
                int mr = Math.Min(MR, rows - ir);
                int i0 = blk.I0 + first + ir;
                if (!TransA && mr == MR)
                {
                    // op(A)[i, p] = a[i·lda + p]: walk the six rows side by side so their cache misses overlap,
                    // prefetching each row a few lines ahead (the rows are short strided runs the hardware misses).
                    T* r0 = A + (long)i0 * Lda + blk.P0, r1 = r0 + Lda, r2 = r1 + Lda, r3 = r2 + Lda, r4 = r3 + Lda, r5 = r4 + Lda;
                    int line = 64 / sizeof(T);
                    T* d = dst;
                    int p = 0;
                    if (typeof(T) == typeof(float) && Sse.IsSupported)
                    {
                        for (; p + 4 <= kc; p += 4, d += 4 * MR)
                        {
                            if (p % line == 0)
                            {
                                int ahead = p + 4 * line;
                                Prefetch(r0 + ahead); Prefetch(r1 + ahead); Prefetch(r2 + ahead);
                                Prefetch(r3 + ahead); Prefetch(r4 + ahead); Prefetch(r5 + ahead);
                            }
                            Transpose6x4((float*)r0 + p, (float*)r1 + p, (float*)r2 + p, (float*)r3 + p, (float*)r4 + p, (float*)r5 + p, (float*)d);
                        }
                    }
                    for (; p < kc; p++, d += MR)
                    {
                        if (p % line == 0)
                        {
                            int ahead = p + 4 * line;
                            Prefetch(r0 + ahead); Prefetch(r1 + ahead); Prefetch(r2 + ahead);
                            Prefetch(r3 + ahead); Prefetch(r4 + ahead); Prefetch(r5 + ahead);
                        }
                        d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
                    }
                }
                else if (!TransA)
                {
                    // Last, partial panel: zero-pad the missing rows.
                    for (int i = 0; i < MR; i++)
                    {
                        T* src = A + (long)(i0 + i) * Lda + blk.P0;
                        for (int p = 0; p < kc; p++) dst[p * MR + i] = i < mr ? src[p] : T.Zero;
                    }
                }
                else if (mr == MR)
                {
                    // op(A)[i, p] = a[p·lda + i]: the MR values for one p are contiguous, one block copy each, prefetching
                    // rows ahead (an element loop per p made backward-input's 1×1 GEMMs 5–10 % slower).
                    T* src = A + (long)blk.P0 * Lda + i0, d = dst;
                    for (int p = 0; p < kc; p++, src += Lda, d += MR)
                    {
                        Prefetch(src + 8L * Lda);
                        Unsafe.CopyBlockUnaligned(d, src, (uint)(MR * sizeof(T)));
                    }
                }
                else
                {
                    // Last, partial panel: zero-pad the missing rows.
                    T* src = A + (long)blk.P0 * Lda + i0;
                    for (int p = 0; p < kc; p++, src += Lda)
                    {
                        T* d = dst + p * MR;
                        for (int i = 0; i < mr; i++) d[i] = src[i];
                        for (int i = mr; i < MR; i++) d[i] = T.Zero;
                    }
                }
            }
        }

        /// <summary>Packs B micro-panels [task·PanelsPerPackTask, …) of a block: kc rows of NR values each, zero-padded.</summary>
        void PackB(in Block<T> blk, int task)
        {
            int nr = Nr, kc = blk.Kc;
            int first = task * PanelsPerPackTask, last = Math.Min(blk.NPanels, first + PanelsPerPackTask);
            for (int panel = first; panel < last; panel++)
            {
                int j0 = panel * nr;
                int cols = Math.Min(nr, blk.Nc - j0);
                T* dst = blk.BPack + (long)panel * kc * nr;
                if (!TransB)
                {
                    // op(B)[p, j] = b[p·ldb + j]: rows are contiguous.
                    T* src = B + (long)blk.P0 * Ldb + Column(blk.J0 + j0, BGroupStride);
                    for (int p = 0; p < kc; p++, src += Ldb, dst += nr)
                    {
                        // Rows are ldb apart; fetch a few ahead so the misses overlap.
                        Prefetch(src + 4L * Ldb);
                        Rows.Copy(src, dst, cols);
                        if (cols < nr) Rows.Clear(dst + cols, nr - cols);
                    }
                }
                else
                {
                    // op(B)[p, j] = b[j·ldb + p]: 8 × 8 register transposes, eight source rows at a time down the whole
                    // K block, so reads stay contiguous and each write fills eight adjacent packed values (a scalar
                    // scatter with stride nr made backward-weight's packing as slow as its arithmetic).
                    int fullCols = typeof(T) == typeof(float) && Avx.IsSupported ? cols & ~7 : 0;
                    int pEnd = fullCols > 0 ? kc & ~7 : 0;
                    T* src = B + (long)(blk.J0 + j0) * Ldb + blk.P0;
                    for (int j = 0; j < fullCols; j += 8)
                        for (int p = 0; p < pEnd; p += 8)
                            Transpose8x8((float*)src + (long)j * Ldb + p, Ldb, (float*)dst + (long)p * nr + j, nr);
                    // What the transposes left: the last kc % 8 rows, the last cols % 8 columns, then zeros past the last
                    // column a row at a time (a zero column at a time wrote kc lines per column: the edge panel of a
                    // small-N backward-weight cost more than the rest of its packing).
                    for (int j = 0; j < fullCols; j++)
                        for (int p = pEnd; p < kc; p++) dst[(long)p * nr + j] = src[(long)j * Ldb + p];
                    for (int j = fullCols; j < cols; j++)
                        for (int p = 0; p < kc; p++) dst[(long)p * nr + j] = src[(long)j * Ldb + p];
                    if (cols < nr)
                        for (int p = 0; p < kc; p++) Rows.Clear(dst + (long)p * nr + cols, nr - cols);
                }
            }
        }

        /// <summary>Computes one tile: one MR-row micro-panel of the A block × one column slice of the B block.</summary>
        void ComputeTile(in Block<T> blk, int tile)
        {
            int nr = Nr, kc = blk.Kc;
            int ir = tile / blk.NSplit * MR, ns = tile % blk.NSplit;
            int mr = Math.Min(MR, blk.Mc - ir);
            int panelFirst = (int)((long)blk.NPanels * ns / blk.NSplit), panelEnd = (int)((long)blk.NPanels * (ns + 1) / blk.NSplit);
            T* edge = (T*)PackBuffer.ForCurrentThread(ref t_edgeBuffer, (nuint)(MR * nr * sizeof(T)));
            T* ap = blk.APack + (long)ir * kc;
            for (int panel = panelFirst; panel < panelEnd; panel++)
            {
                int j = panel * nr;
                int nrEff = Math.Min(nr, blk.Nc - j);
                T* bp = blk.BPack + (long)panel * kc * nr;
                T* cp = C + (long)(blk.I0 + ir) * Ldc + Column(blk.J0 + j, CGroupStride);
                if (mr == MR && nrEff == nr)
                {
                    MicroKernel(kc, ap, bp, cp, Ldc, Alpha, blk.Beta, blk.BetaZero);
                }
                else
                {
                    // Edge tile: full kernel into scratch, then the same epilogue arithmetic element-wise.
                    MicroKernel(kc, ap, bp, edge, nr, T.One, T.Zero, true);
                    for (int i = 0; i < mr; i++)
                    {
                        for (int jj = 0; jj < nrEff; jj++)
                        {
                            T acc = edge[i * nr + jj];
                            T* cij = cp + (long)i * Ldc + jj;
                            *cij = blk.BetaZero ? Alpha * acc : T.FusedMultiplyAdd(Alpha, acc, blk.Beta * *cij);
                        }
                    }
                }
            }
        }
    }

    [ThreadStatic] static PackBuffer? t_aBuffer;
    [ThreadStatic] static PackBuffer? t_bBuffer;
    [ThreadStatic] static PackBuffer? t_edgeBuffer;

    /// <summary>A 64-byte aligned native buffer cached per thread, freed when the thread's reference dies.</summary>
    sealed class PackBuffer
    {
        void* _ptr;
        nuint _bytes;

        public static void* ForCurrentThread(ref PackBuffer? slot, nuint bytes)
        {
            slot ??= new PackBuffer();
            if (slot._bytes < bytes)
            {
                NativeMemory.AlignedFree(slot._ptr);
                slot._ptr = NativeMemory.AlignedAlloc(bytes, 64);
                slot._bytes = bytes;
            }
            return slot._ptr;
        }

        ~PackBuffer() => NativeMemory.AlignedFree(_ptr);
    }

    // Software prefetch into all cache levels; a no-op where SSE is unavailable.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Prefetch(void* address)
    {
        if (Sse.IsSupported) Sse.Prefetch0(address);
    }

    /// <summary>Writes 4 columns of 6 float rows as 4 groups of 6 (d[6t + i] = r_i[t]) with SSE shuffles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose6x4(float* r0, float* r1, float* r2, float* r3, float* r4, float* r5, float* d)
    {
        Vector128<float> x0 = Sse.LoadVector128(r0), x1 = Sse.LoadVector128(r1), x2 = Sse.LoadVector128(r2), x3 = Sse.LoadVector128(r3);
        Vector128<float> x4 = Sse.LoadVector128(r4), x5 = Sse.LoadVector128(r5);
        // Rows 0–3: classic 4×4 transpose.
        Vector128<float> t0 = Sse.UnpackLow(x0, x1), t1 = Sse.UnpackHigh(x0, x1), t2 = Sse.UnpackLow(x2, x3), t3 = Sse.UnpackHigh(x2, x3);
        Sse.Store(d, Sse.MoveLowToHigh(t0, t2));
        Sse.Store(d + 6, Sse.MoveHighToLow(t2, t0));
        Sse.Store(d + 12, Sse.MoveLowToHigh(t1, t3));
        Sse.Store(d + 18, Sse.MoveHighToLow(t3, t1));
        // Rows 4–5: pairs (r4[t], r5[t]) into the last two slots of each group.
        Vector128<float> u0 = Sse.UnpackLow(x4, x5), u1 = Sse.UnpackHigh(x4, x5);
        Sse.StoreLow(d + 4, u0);
        Sse.StoreHigh(d + 10, u0);
        Sse.StoreLow(d + 16, u1);
        Sse.StoreHigh(d + 22, u1);
    }

    /// <summary>d[q·ldd + i] = s[i·lds + q] for an 8 × 8 float block, with AVX unpacks, shuffles and lane permutes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* s, int lds, float* d, int ldd)
    {
        Vector256<float> v0 = Avx.LoadVector256(s), v1 = Avx.LoadVector256(s + lds), v2 = Avx.LoadVector256(s + 2 * lds), v3 = Avx.LoadVector256(s + 3 * lds);
        Vector256<float> v4 = Avx.LoadVector256(s + 4 * lds), v5 = Avx.LoadVector256(s + 5 * lds), v6 = Avx.LoadVector256(s + 6 * lds), v7 = Avx.LoadVector256(s + 7 * lds);
        // Interleave pairs of rows, then pairs of pairs: within each 128-bit lane, u_k holds column k of four rows.
        Vector256<float> t0 = Avx.UnpackLow(v0, v1), t1 = Avx.UnpackHigh(v0, v1), t2 = Avx.UnpackLow(v2, v3), t3 = Avx.UnpackHigh(v2, v3);
        Vector256<float> t4 = Avx.UnpackLow(v4, v5), t5 = Avx.UnpackHigh(v4, v5), t6 = Avx.UnpackLow(v6, v7), t7 = Avx.UnpackHigh(v6, v7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Rows 0–3 supply the low lane of each output, rows 4–7 the high lane.
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    // ---------------------------------------------------------------- micro-kernels

    /// <summary>
    /// c[MR×NR] = alpha·(a-panel · b-panel) + beta·c, or alpha·(…) when betaZero (c not read).
    /// a holds kc groups of MR values, b holds kc groups of NR values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MicroKernel<T>(int kc, T* a, T* b, T* c, int ldc, T alpha, T beta, bool betaZero)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (Kind)
        {
            case KernelKind.Avx512: Kernel512(kc, a, b, c, ldc, alpha, beta, betaZero); break;
            case KernelKind.Avx2: Kernel256(kc, a, b, c, ldc, alpha, beta, betaZero); break;
            default: KernelScalar(kc, a, b, c, ldc, alpha, beta, betaZero); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<T> Fma512<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        return Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<T> Fma256<T>(Vector256<T> x, Vector256<T> y, Vector256<T> z) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        return Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
    }

    // Writes one accumulator vector to C with the epilogue alpha·acc (+ beta·c).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store512<T>(T* c, Vector512<T> acc, Vector512<T> alpha, Vector512<T> beta, bool betaZero) where T : unmanaged
    {
        if (betaZero) Vector512.Store(acc * alpha, c);
        else Vector512.Store(Fma512(alpha, acc, beta * Vector512.Load(c)), c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store256<T>(T* c, Vector256<T> acc, Vector256<T> alpha, Vector256<T> beta, bool betaZero) where T : unmanaged
    {
        if (betaZero) Vector256.Store(acc * alpha, c);
        else Vector256.Store(Fma256(alpha, acc, beta * Vector256.Load(c)), c);
    }

    /// <summary>6 × (4 zmm) kernel: per k step, 4 loads of B, 6 broadcasts of A, 24 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel512<T>(int kc, T* a, T* b, T* c, int ldc, T alpha, T beta, bool betaZero)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int l = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<T> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<T> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<T> c50 = default, c51 = default, c52 = default, c53 = default;
        // C is read and written only after the K loop; start fetching it now so the epilogue doesn't stall on L3/memory.
        // A row of the tile is 4 vectors = 256 bytes = 4 cache lines.
        for (int i = 0; i < MR; i++)
        {
            byte* row = (byte*)(c + (long)i * ldc);
            Prefetch(row); Prefetch(row + 64); Prefetch(row + 128); Prefetch(row + 192);
        }
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b), b1 = Vector512.Load(b + l), b2 = Vector512.Load(b + 2 * l), b3 = Vector512.Load(b + 3 * l);
            Vector512<T> ai = Vector512.Create(a[0]);
            c00 = Fma512(ai, b0, c00); c01 = Fma512(ai, b1, c01); c02 = Fma512(ai, b2, c02); c03 = Fma512(ai, b3, c03);
            ai = Vector512.Create(a[1]);
            c10 = Fma512(ai, b0, c10); c11 = Fma512(ai, b1, c11); c12 = Fma512(ai, b2, c12); c13 = Fma512(ai, b3, c13);
            ai = Vector512.Create(a[2]);
            c20 = Fma512(ai, b0, c20); c21 = Fma512(ai, b1, c21); c22 = Fma512(ai, b2, c22); c23 = Fma512(ai, b3, c23);
            ai = Vector512.Create(a[3]);
            c30 = Fma512(ai, b0, c30); c31 = Fma512(ai, b1, c31); c32 = Fma512(ai, b2, c32); c33 = Fma512(ai, b3, c33);
            ai = Vector512.Create(a[4]);
            c40 = Fma512(ai, b0, c40); c41 = Fma512(ai, b1, c41); c42 = Fma512(ai, b2, c42); c43 = Fma512(ai, b3, c43);
            ai = Vector512.Create(a[5]);
            c50 = Fma512(ai, b0, c50); c51 = Fma512(ai, b1, c51); c52 = Fma512(ai, b2, c52); c53 = Fma512(ai, b3, c53);
            a += MR;
            b += 4 * l;
        }
        Vector512<T> va = Vector512.Create(alpha), vb = Vector512.Create(beta);
        T* r = c;
        Store512(r, c00, va, vb, betaZero); Store512(r + l, c01, va, vb, betaZero); Store512(r + 2 * l, c02, va, vb, betaZero); Store512(r + 3 * l, c03, va, vb, betaZero);
        r += ldc;
        Store512(r, c10, va, vb, betaZero); Store512(r + l, c11, va, vb, betaZero); Store512(r + 2 * l, c12, va, vb, betaZero); Store512(r + 3 * l, c13, va, vb, betaZero);
        r += ldc;
        Store512(r, c20, va, vb, betaZero); Store512(r + l, c21, va, vb, betaZero); Store512(r + 2 * l, c22, va, vb, betaZero); Store512(r + 3 * l, c23, va, vb, betaZero);
        r += ldc;
        Store512(r, c30, va, vb, betaZero); Store512(r + l, c31, va, vb, betaZero); Store512(r + 2 * l, c32, va, vb, betaZero); Store512(r + 3 * l, c33, va, vb, betaZero);
        r += ldc;
        Store512(r, c40, va, vb, betaZero); Store512(r + l, c41, va, vb, betaZero); Store512(r + 2 * l, c42, va, vb, betaZero); Store512(r + 3 * l, c43, va, vb, betaZero);
        r += ldc;
        Store512(r, c50, va, vb, betaZero); Store512(r + l, c51, va, vb, betaZero); Store512(r + 2 * l, c52, va, vb, betaZero); Store512(r + 3 * l, c53, va, vb, betaZero);
    }

    /// <summary>6 × (2 ymm) kernel for AVX2/FMA machines: 12 accumulators of the 16 ymm registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Kernel256<T>(int kc, T* a, T* b, T* c, int ldc, T alpha, T beta, bool betaZero)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int l = Vector256<T>.Count;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // Prefetch the C tile (64 bytes a row, possibly straddling two lines) for the epilogue.
        for (int i = 0; i < MR; i++)
        {
            byte* row = (byte*)(c + (long)i * ldc);
            Prefetch(row); Prefetch(row + 63);
        }
        for (int p = 0; p < kc; p++)
        {
            Vector256<T> b0 = Vector256.Load(b), b1 = Vector256.Load(b + l);
            Vector256<T> ai = Vector256.Create(a[0]);
            c00 = Fma256(ai, b0, c00); c01 = Fma256(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Fma256(ai, b0, c10); c11 = Fma256(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Fma256(ai, b0, c20); c21 = Fma256(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Fma256(ai, b0, c30); c31 = Fma256(ai, b1, c31);
            ai = Vector256.Create(a[4]);
            c40 = Fma256(ai, b0, c40); c41 = Fma256(ai, b1, c41);
            ai = Vector256.Create(a[5]);
            c50 = Fma256(ai, b0, c50); c51 = Fma256(ai, b1, c51);
            a += MR;
            b += 2 * l;
        }
        Vector256<T> va = Vector256.Create(alpha), vb = Vector256.Create(beta);
        T* r = c;
        Store256(r, c00, va, vb, betaZero); Store256(r + l, c01, va, vb, betaZero); r += ldc;
        Store256(r, c10, va, vb, betaZero); Store256(r + l, c11, va, vb, betaZero); r += ldc;
        Store256(r, c20, va, vb, betaZero); Store256(r + l, c21, va, vb, betaZero); r += ldc;
        Store256(r, c30, va, vb, betaZero); Store256(r + l, c31, va, vb, betaZero); r += ldc;
        Store256(r, c40, va, vb, betaZero); Store256(r + l, c41, va, vb, betaZero); r += ldc;
        Store256(r, c50, va, vb, betaZero); Store256(r + l, c51, va, vb, betaZero);
    }

    /// <summary>Portable MR×8 kernel for machines without AVX2/FMA.</summary>
    static void KernelScalar<T>(int kc, T* a, T* b, T* c, int ldc, T alpha, T beta, bool betaZero)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int nr = 8;
        T* acc = stackalloc T[MR * nr];
        for (int i = 0; i < MR * nr; i++) acc[i] = T.Zero;
        for (int p = 0; p < kc; p++, a += MR, b += nr)
        {
            for (int i = 0; i < MR; i++)
            {
                T ai = a[i];
                for (int j = 0; j < nr; j++) acc[i * nr + j] += ai * b[j];
            }
        }
        for (int i = 0; i < MR; i++)
        {
            for (int j = 0; j < nr; j++)
            {
                T* cij = c + (long)i * ldc + j;
                *cij = betaZero ? alpha * acc[i * nr + j] : T.FusedMultiplyAdd(alpha, acc[i * nr + j], beta * *cij);
            }
        }
    }
}
