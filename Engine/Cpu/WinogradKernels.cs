using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace IlgpuSeg.Engine;

// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (every ResNet block's conv2, dilated or not). A 2×2 output
// tile is Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A over its 4×4 input tile d, so the sum over input channels becomes 16 GEMMs,
// M[ξ] [O, tiles] = U[ξ] [O, C] · V[ξ] [C, tiles], one per position ξ of the 4×4 transformed tile: 16 multiplies
// per tile and channel pair instead of im2col's 36. With dilation D a tile is output rows {r, r + D} × columns
// {q, q + D} and reads input rows r − pad + {0, D, 2D, 3D} (columns alike), so dilated layers need no copy to a
// subsampled grid. The transforms' entries are 0, ±1 and ±½, so the result differs from im2col's by rounding only.
// Backward-input is the same convolution of dy with the flipped, transposed weights (stride 1, padding 2D − pad);
// backward-weight is the forward map transposed: dU[ξ] = Σ_tiles (A dy Aᵀ)[ξ] · V[ξ]ᵀ, then dw = Gᵀ dU G.
// Bands of tile rows and the 16 GEMMs (each on one thread) depend only on the shapes: same bits for any thread count.
internal sealed partial class CpuKernels
{
    // Where the transforms pay for themselves, measured on this project's machine (2 threads, forward + backward-input +
    // backward-weight against im2col, with the vector transforms): from 16 channels on both sides up (2 × 64 × 32²:
    // 5.0 → 2.1 ms, 2 × 16 × 32²: 0.88 → 0.54), but not with fewer channels (2 × 4 × 32²: 0.20 → 0.29), not when the
    // convolution widens from few channels (16 → 256 on 16²: 0.98 → 1.3; 32 → 256 on 8²: 0.68 → 1.0). On a few dozen
    // tiles it loses a few hundredths of a millisecond (1 × 32 × 8²: 0.12 → 0.18), which no rule is kept for.
    private const int WinogradMinChannels = 16;
    private const int WinogradWideningMinChannels = 128;

    // Transformed input and output tiles of one band stay under this many elements.
    private const int WinogradBudget = 1 << 22;

    /// <summary>
    /// Distance between the 16 matrices of transformed tiles or weights: one cache line more than a matrix, so the 16
    /// elements a tile reads or writes do not all fall in the same cache set (a matrix is often a power of two long).
    /// </summary>
    private static long XiStride(long matrix) => matrix + 16;

    /// <summary>
    /// Whether a convolution runs as Winograd F(2×2, 3×3): 3×3, stride 1, square dilation and padding of at most twice the
    /// dilation, channels enough for the transforms to pay (above), and tiles that cover at most 1.5× the
    /// output (a dilation near the map's size, ASPP's 12–36 on 32 × 32, computes mostly dropped tiles; those convolutions
    /// are left to the tap path).
    /// </summary>
    internal static bool UsesWinograd(ConvShape s)
    {
        var g = s.G;
        if (s.Kh != 3 || s.Kw != 3 || g.StrideH != 1 || g.StrideW != 1 || g.DilationH != g.DilationW || g.PadH != g.PadW
            || g.PadH > 2 * g.DilationH || s.Ho < 1 || s.Wo < 1 || Math.Min(s.C, s.O) < WinogradMinChannels
            || (s.O > s.C && s.C < WinogradWideningMinChannels)) return false;
        var t = WinogradTiling.Of(s);
        return 4L * t.TileRows * t.TileCols * 2 <= 3L * s.Ho * s.Wo;
    }

    /// <summary>
    /// The tiling of an Ho × Wo output by 2×2 tiles whose rows (and columns) are D apart: tile row tr starts at output
    /// row Start(tr) = (tr / D)·2D + tr % D and covers Start and Start + D; rows past the output are computed and dropped.
    /// </summary>
    internal readonly record struct WinogradTiling(int N, int H, int W, int Ho, int Wo, int D, int Pad)
    {
        public static WinogradTiling Of(ConvShape s) => new(s.N, s.H, s.W, s.Ho, s.Wo, s.G.DilationH, s.G.PadH);

        public int TileRows => (Ho + 2 * D - 1) / (2 * D) * D;

        public int TileCols => (Wo + 2 * D - 1) / (2 * D) * D;

        public int Start(int tile) => tile / D * 2 * D + tile % D;

        /// <summary>Start(tile) for every tile column, computed once per worker instead of a division per tile.</summary>
        public void ColumnStarts(Span<int> starts)
        {
            for (int tc = 0; tc < starts.Length; tc++) starts[tc] = Start(tc);
        }

        /// <summary>Tile rows per band (over all images, image-major) so 16 × (inChannels + outChannels) × band tiles fits the budget.</summary>
        public int BandRows(int inChannels, int outChannels) =>
            Math.Clamp(WinogradBudget / (16 * (inChannels + outChannels) * TileCols), 1, N * TileRows);

        /// <summary>Rows and columns of the zero-padded input plane a tile reads from: input row r is padded row r + Pad.</summary>
        public (int Rows, int Cols) Padded => (Math.Max(H + Pad, Start(TileRows - 1) + 3 * D + 1), Math.Max(W + Pad, Start(TileCols - 1) + 3 * D + 1));

        /// <summary>Whether the transforms run 16-tile vector blocks: float on AVX-512, dilation 1, 2, 4 or 8.</summary>
        public bool VectorBlocks<T>() => typeof(T) == typeof(float) && Avx512F.IsSupported && D <= 8 && 16 % D == 0;

        /// <summary>
        /// Vector blocks of the transforms that read or write the output grid (output, gradient tiles): tiles in blocks of
        /// 16 whose 32 columns lie inside a row, and whether rows of exactly 8 tiles over 16 columns pair up instead.
        /// </summary>
        public (int VectorTiles, bool Pairs) OutputBlocks<T>() =>
            VectorBlocks<T>() ? (Math.Min(TileCols / 16, Wo / 32) * 16, TileCols == 8 && Wo == 16) : (0, false);

        /// <summary>Whether band tile row <paramref name="band"/> (of a band ending at b1) has the next row of its image in the band.</summary>
        public bool HasNextInBand(int band, int b1) => band + 1 < b1 && band % TileRows + 1 < TileRows;

        /// <summary>For lane i of a 16-tile block: Start(i) for i &lt; 8, 16 + Start(i − 8) for i ≥ 8 (equal, as D divides 8).</summary>
        public static Vector512<int> StartLanes(int d)
        {
            int shift = BitOperations.Log2((uint)d);
            var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            return Vector512.ShiftLeft(Vector512.ShiftRightLogical(lane, shift), shift + 1) | (lane & Vector512.Create(d - 1));
        }
    }

    private unsafe void WinogradConv2d<T>(Tensor x, Tensor w, Tensor y, ConvShape s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = Data<T>(x), pw = Data<T>(w), py = Data<T>(y))
            WinogradForward(px + x.Offset, pw + w.Offset, flip: false, py + y.Offset, s.C, s.O, WinogradTiling.Of(s));
    }

    private unsafe void WinogradConv2dBackwardInput<T>(Tensor dy, Tensor w, Tensor dx, ConvShape s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // dx = conv(dy, w flipped and transposed to [C, O, 3, 3]) at stride 1, dilation D, padding 2D − pad: same size as x.
        var t = new WinogradTiling(s.N, s.Ho, s.Wo, s.H, s.W, s.G.DilationH, 2 * s.G.DilationH - s.G.PadH);
        fixed (T* pdy = Data<T>(dy), pw = Data<T>(w), pdx = Data<T>(dx))
            WinogradForward(pdy + dy.Offset, pw + w.Offset, flip: true, pdx + dx.Offset, s.O, s.C, t);
    }

    private unsafe void WinogradConv2dBackwardWeight<T>(Tensor x, Tensor dy, Tensor dw, ConvShape s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = WinogradTiling.Of(s);
        int band = t.BandRows(s.C, s.O), total = s.N * t.TileRows;
        int maxTiles = band * t.TileCols;
        long vStride = XiStride((long)s.C * maxTiles), gStride = XiStride((long)s.O * maxTiles), uStride = XiStride((long)s.O * s.C);
        var work = Workspace<T>.Get(checked((int)(16 * (vStride + gStride + uStride))), Accelerator);
        fixed (T* px0 = Data<T>(x), pdy0 = Data<T>(dy), pdw0 = Data<T>(dw), pwork = work)
        {
            T* v = pwork, g = v + 16 * vStride, du = g + 16 * gStride;
            T* px = px0 + x.Offset, pdy = pdy0 + dy.Offset;
            for (int b0 = 0; b0 < total; b0 += band)
            {
                int b1 = Math.Min(total, b0 + band), tiles = (b1 - b0) * t.TileCols;
                WinogradInputTiles(px, s.C, t, b0, b1, v, vStride);
                WinogradGradTiles(pdy, s.O, t, b0, b1, g, gStride);
                // dU[ξ] (+)= Ĝ[ξ] · V[ξ]ᵀ over this band's tiles.
                nint gb = (nint)g, vb = (nint)v, db = (nint)du;
                bool accumulate = b0 > 0;
                CpuParallel.Tasks(Threads, 16, xi => RunGemm(false, true, s.O, s.C, tiles,
                    (T*)gb + xi * gStride, tiles, (T*)vb + xi * vStride, tiles, accumulate, (T*)db + xi * uStride, s.C, threads: 1));
            }
            WinogradWeightGrad(du, uStride, pdw0 + dw.Offset, s.O, s.C);
        }
    }

    /// <summary>
    /// y [N, outC, Ho, Wo] = the 3×3 convolution of x [N, inC, H, W] with weights w [outC, inC, 3, 3], or with
    /// <paramref name="flip"/> (backward-input) with w [inC, outC, 3, 3] rotated by 180° and transposed. Flipped, U is the
    /// transform of w as it is, read transposed: rotating a kernel by 180° permutes its transform's rows and columns
    /// (G J = P G, J reversing 3 values, P swapping 0 and 3 of 4), so the matrix for ξ = (i, j) is U[(P i, P j)]ᵀ.
    /// </summary>
    private unsafe void WinogradForward<T>(T* x, T* w, bool flip, T* y, int inC, int outC, WinogradTiling t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int band = t.BandRows(inC, outC), total = t.N * t.TileRows;
        int maxTiles = band * t.TileCols;
        long uStride = XiStride((long)outC * inC), vStride = XiStride((long)inC * maxTiles), mStride = XiStride((long)outC * maxTiles);
        var work = Workspace<T>.Get(checked((int)(16 * (uStride + vStride + mStride))), Accelerator);
        fixed (T* pwork = work)
        {
            T* u = pwork, v = u + 16 * uStride, m = v + 16 * vStride;
            if (flip) WinogradWeights(w, u, uStride, inC, outC);
            else WinogradWeights(w, u, uStride, outC, inC);
            for (int b0 = 0; b0 < total; b0 += band)
            {
                int b1 = Math.Min(total, b0 + band), tiles = (b1 - b0) * t.TileCols;
                WinogradInputTiles(x, inC, t, b0, b1, v, vStride);
                nint ub = (nint)u, vb = (nint)v, mb = (nint)m;
                CpuParallel.Tasks(Threads, 16, xi => RunGemm(flip, false, outC, tiles, inC,
                    (T*)ub + (flip ? FlippedXi(xi) : xi) * uStride, flip ? outC : inC, (T*)vb + xi * vStride, tiles, false, (T*)mb + xi * mStride, tiles, threads: 1));
                WinogradOutputTiles(m, mStride, y, outC, t, b0, b1);
            }
        }
    }

    /// <summary>(P i, P j) for ξ = 4i + j, P swapping 0 and 3.</summary>
    private static int FlippedXi(int xi)
    {
        static int P(int i) => i == 0 ? 3 : i == 3 ? 0 : i;
        return 4 * P(xi / 4) + P(xi % 4);
    }

    /// <summary>
    /// U[ξ, r, q] = (G k Gᵀ)[ξ] for the kernel k = w[r, q] of w [rows, cols, 3, 3]. A U row at a time, so its 16 matrices'
    /// rows are written front to back; whole vectors of neighbouring kernels at once (the scalar loop's 16 scattered stores
    /// per kernel made this half of a 512-channel forward on 16 × 16 maps), 512-bit ones where those are fast and 256-bit
    /// ones on AVX2 machines, the rest one at a time, with the same operations in the same order.
    /// </summary>
    private unsafe void WinogradWeights<T>(T* w, T* u, long stride, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint wb = (nint)w, ub = (nint)u;
        bool wide = Vector512.IsHardwareAccelerated;
        int lanes = wide ? Vector512<T>.Count : Vector256<T>.Count;
        int vectorCols = wide || Vector256.IsHardwareAccelerated ? cols / lanes * lanes : 0;
        bool transposeFloats = wide && typeof(T) == typeof(float) && Avx512F.IsSupported;
        bool transposeFloats8 = !wide && typeof(T) == typeof(float) && Avx.IsSupported;
        T* end = w + (long)rows * cols * 9;
        CpuParallel.For(Threads, rows, CpuParallel.Grain(16L * cols), (r0, r1) =>
        {
            T* k9 = stackalloc T[9 * lanes];
            float* copy = stackalloc float[9 * 16 + 16];
            for (int r = r0; r < r1; r++)
            {
                T* kernels = (T*)wb + (long)r * cols * 9, dst = (T*)ub + (long)r * cols;
                for (int q0 = 0; q0 < vectorCols; q0 += lanes)
                {
                    T* block = kernels + q0 * 9;
                    if (transposeFloats)
                    {
                        // The transpose loads 16 floats from each kernel's start, 7 past the block's end: from a copy at the tensor's end.
                        if (block + 9 * 16 + 7 > end)
                        {
                            new ReadOnlySpan<float>(block, 9 * 16).CopyTo(new Span<float>(copy, 9 * 16));
                            block = (T*)copy;
                        }
                        KernelElements16((float*)block, out var k00, out var k01, out var k02, out var k10, out var k11, out var k12, out var k20, out var k21, out var k22);
                        WinogradWeightVectors(k00.As<float, T>(), k01.As<float, T>(), k02.As<float, T>(), k10.As<float, T>(), k11.As<float, T>(),
                            k12.As<float, T>(), k20.As<float, T>(), k21.As<float, T>(), k22.As<float, T>(), dst + q0, stride);
                        continue;
                    }
                    // k9[e·lanes + lane] = element e of kernel q0 + lane: for eight float kernels an 8 × 8 transpose of their
                    // first eight elements and the ninth gathered in a register (vector stores, so the loads below forward).
                    if (transposeFloats8)
                    {
                        float* b = (float*)block;
                        Gemm.Transpose8x8(b, 9, (float*)k9, 8);
                        Vector256.Create(b[8], b[17], b[26], b[35], b[44], b[53], b[62], b[71]).Store((float*)k9 + 64);
                    }
                    else
                        for (int lane = 0; lane < lanes; lane++)
                            for (int e = 0; e < 9; e++) k9[e * lanes + lane] = block[lane * 9 + e];
                    if (wide)
                    {
                        Vector512<T> K(int e) => Vector512.Load(k9 + e * lanes);
                        WinogradWeightVectors(K(0), K(1), K(2), K(3), K(4), K(5), K(6), K(7), K(8), dst + q0, stride);
                    }
                    else
                    {
                        Vector256<T> K(int e) => Vector256.Load(k9 + e * lanes);
                        WinogradWeightVectors(K(0), K(1), K(2), K(3), K(4), K(5), K(6), K(7), K(8), dst + q0, stride);
                    }
                }
                for (int q = vectorCols; q < cols; q++) WinogradWeight(kernels + q * 9, dst + q, stride);
            }
        });
    }

    /// <summary>
    /// Element e of 16 kernels of 9 floats (lane l = kernels[9l + e]): the first 9 rows of a 16 × 16 transpose of the rows
    /// kernels + 9l, with unpacks and 128-bit lane shuffles. A scalar fill wrote each float to a stack buffer read back as
    /// vectors, and every such read waited for its 16 stores: two thirds of the weight transform's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void KernelElements16(float* kernels, out Vector512<float> k00, out Vector512<float> k01, out Vector512<float> k02,
        out Vector512<float> k10, out Vector512<float> k11, out Vector512<float> k12, out Vector512<float> k20, out Vector512<float> k21, out Vector512<float> k22)
    {
        // For rows 4g..4g+3 (g = a, b, c, d), xj's 128-bit lane k holds element 4k + j of the four rows.
        Rows4(kernels, out var a0, out var a1, out var a2, out var a3);
        Rows4(kernels + 36, out var b0, out var b1, out var b2, out var b3);
        Rows4(kernels + 72, out var c0, out var c1, out var c2, out var c3);
        Rows4(kernels + 108, out var d0, out var d1, out var d2, out var d3);
        // Element 4k + j is lane k of aj, bj, cj, dj in turn.
        Lanes(a0, b0, c0, d0, out k00, out k11);
        Lanes(a1, b1, c1, d1, out k01, out k12);
        Lanes(a2, b2, c2, d2, out k02, out k20);
        Lanes(a3, b3, c3, d3, out k10, out k21);
        k22 = Avx512F.Shuffle4x128(Avx512F.Shuffle4x128(a0, b0, 0xEE), Avx512F.Shuffle4x128(c0, d0, 0xEE), 0x88);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Rows4(float* p, out Vector512<float> x0, out Vector512<float> x1, out Vector512<float> x2, out Vector512<float> x3)
        {
            Vector512<float> r0 = Vector512.Load(p), r1 = Vector512.Load(p + 9), r2 = Vector512.Load(p + 18), r3 = Vector512.Load(p + 27);
            Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1), t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
            x0 = Avx512F.Shuffle(t0, t2, 0x44);
            x1 = Avx512F.Shuffle(t0, t2, 0xEE);
            x2 = Avx512F.Shuffle(t1, t3, 0x44);
            x3 = Avx512F.Shuffle(t1, t3, 0xEE);
        }

        // Lane 0 (element j) and lane 1 (element 4 + j) of four vectors, each gathered into one vector.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Lanes(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, out Vector512<float> lane0, out Vector512<float> lane1)
        {
            Vector512<float> ab = Avx512F.Shuffle4x128(a, b, 0x44), cd = Avx512F.Shuffle4x128(c, d, 0x44);
            lane0 = Avx512F.Shuffle4x128(ab, cd, 0x88);
            lane1 = Avx512F.Shuffle4x128(ab, cd, 0xDD);
        }
    }

    /// <summary>One kernel's 16 values G k Gᵀ, written stride apart.</summary>
    private static unsafe void WinogradWeight<T>(T* k, T* dst, long stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5);
        T k00 = k[0], k01 = k[1], k02 = k[2], k10 = k[3], k11 = k[4], k12 = k[5], k20 = k[6], k21 = k[7], k22 = k[8];
        // G k (4 × 3), rows k0·, b, c, k2·.
        T b0v = (k00 + k10 + k20) * half, b1v = (k01 + k11 + k21) * half, b2v = (k02 + k12 + k22) * half;
        T c0v = (k00 - k10 + k20) * half, c1v = (k01 - k11 + k21) * half, c2v = (k02 - k12 + k22) * half;
        // (G k) Gᵀ: each row of 3 becomes 4: r0, (r0 + r1 + r2)/2, (r0 − r1 + r2)/2, r2.
        WinogradWeightRow(dst, stride, k00, k01, k02, half);
        WinogradWeightRow(dst + 4 * stride, stride, b0v, b1v, b2v, half);
        WinogradWeightRow(dst + 8 * stride, stride, c0v, c1v, c2v, half);
        WinogradWeightRow(dst + 12 * stride, stride, k20, k21, k22, half);
    }

    private static unsafe void WinogradWeightRow<T>(T* dst, long stride, T r0, T r1, T r2, T half) where T : unmanaged, IFloatingPointIeee754<T>
    {
        dst[0] = r0;
        dst[stride] = (r0 + r1 + r2) * half;
        dst[2 * stride] = (r0 - r1 + r2) * half;
        dst[3 * stride] = r2;
    }

    /// <summary><see cref="WinogradWeight"/> for a vector of kernels, given as their elements k00 … k22.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WinogradWeightVectors<T>(Vector512<T> k00, Vector512<T> k01, Vector512<T> k02, Vector512<T> k10, Vector512<T> k11,
        Vector512<T> k12, Vector512<T> k20, Vector512<T> k21, Vector512<T> k22, T* dst, long stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = Vector512.Create(T.CreateTruncating(0.5));
        Vector512<T> b0v = (k00 + k10 + k20) * half, b1v = (k01 + k11 + k21) * half, b2v = (k02 + k12 + k22) * half;
        Vector512<T> c0v = (k00 - k10 + k20) * half, c1v = (k01 - k11 + k21) * half, c2v = (k02 - k12 + k22) * half;
        WinogradWeightRowVector(dst, stride, k00, k01, k02, half);
        WinogradWeightRowVector(dst + 4 * stride, stride, b0v, b1v, b2v, half);
        WinogradWeightRowVector(dst + 8 * stride, stride, c0v, c1v, c2v, half);
        WinogradWeightRowVector(dst + 12 * stride, stride, k20, k21, k22, half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WinogradWeightRowVector<T>(T* dst, long stride, Vector512<T> r0, Vector512<T> r1, Vector512<T> r2, Vector512<T> half)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512.Store(r0, dst);
        Vector512.Store((r0 + r1 + r2) * half, dst + stride);
        Vector512.Store((r0 - r1 + r2) * half, dst + 2 * stride);
        Vector512.Store(r2, dst + 3 * stride);
    }

    /// <summary><see cref="WinogradWeightVectors{T}(Vector512{T}, Vector512{T}, Vector512{T}, Vector512{T}, Vector512{T}, Vector512{T}, Vector512{T}, Vector512{T}, Vector512{T}, T*, long)"/> in 256-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WinogradWeightVectors<T>(Vector256<T> k00, Vector256<T> k01, Vector256<T> k02, Vector256<T> k10, Vector256<T> k11,
        Vector256<T> k12, Vector256<T> k20, Vector256<T> k21, Vector256<T> k22, T* dst, long stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = Vector256.Create(T.CreateTruncating(0.5));
        Vector256<T> b0v = (k00 + k10 + k20) * half, b1v = (k01 + k11 + k21) * half, b2v = (k02 + k12 + k22) * half;
        Vector256<T> c0v = (k00 - k10 + k20) * half, c1v = (k01 - k11 + k21) * half, c2v = (k02 - k12 + k22) * half;
        WinogradWeightRowVector(dst, stride, k00, k01, k02, half);
        WinogradWeightRowVector(dst + 4 * stride, stride, b0v, b1v, b2v, half);
        WinogradWeightRowVector(dst + 8 * stride, stride, c0v, c1v, c2v, half);
        WinogradWeightRowVector(dst + 12 * stride, stride, k20, k21, k22, half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WinogradWeightRowVector<T>(T* dst, long stride, Vector256<T> r0, Vector256<T> r1, Vector256<T> r2, Vector256<T> half)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector256.Store(r0, dst);
        Vector256.Store((r0 + r1 + r2) * half, dst + stride);
        Vector256.Store((r0 - r1 + r2) * half, dst + 2 * stride);
        Vector256.Store(r2, dst + 3 * stride);
    }

    /// <summary>dw[o, c] = Gᵀ dU[·, o, c] G: the adjoint of <see cref="WinogradWeights"/>.</summary>
    private unsafe void WinogradWeightGrad<T>(T* du, long stride, T* dw, int o, int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint db = (nint)du, wb = (nint)dw;
        CpuParallel.For(Threads, o * c, CpuParallel.Grain(64), (a0, a1) =>
        {
            T half = T.CreateTruncating(0.5);
            for (long at = a0; at < a1; at++)
            {
                T* p = (T*)db + at, dst = (T*)wb + at * 9;
                // Gᵀ dU: row 0 = d0 + (d1 + d2)/2, row 1 = (d1 − d2)/2, row 2 = (d1 + d2)/2 + d3 over the 4 rows d0..d3, column by column.
                T r00 = p[0] + (p[4 * stride] + p[8 * stride]) * half, r10 = (p[4 * stride] - p[8 * stride]) * half, r20 = (p[4 * stride] + p[8 * stride]) * half + p[12 * stride];
                T r01 = p[stride] + (p[5 * stride] + p[9 * stride]) * half, r11 = (p[5 * stride] - p[9 * stride]) * half, r21 = (p[5 * stride] + p[9 * stride]) * half + p[13 * stride];
                T r02 = p[2 * stride] + (p[6 * stride] + p[10 * stride]) * half, r12 = (p[6 * stride] - p[10 * stride]) * half, r22 = (p[6 * stride] + p[10 * stride]) * half + p[14 * stride];
                T r03 = p[3 * stride] + (p[7 * stride] + p[11 * stride]) * half, r13 = (p[7 * stride] - p[11 * stride]) * half, r23 = (p[7 * stride] + p[11 * stride]) * half + p[15 * stride];
                // (Gᵀ dU) G: the same along each row.
                dst[0] = r00 + (r01 + r02) * half; dst[1] = (r01 - r02) * half; dst[2] = (r01 + r02) * half + r03;
                dst[3] = r10 + (r11 + r12) * half; dst[4] = (r11 - r12) * half; dst[5] = (r11 + r12) * half + r13;
                dst[6] = r20 + (r21 + r22) * half; dst[7] = (r21 - r22) * half; dst[8] = (r21 + r22) * half + r23;
            }
        });
    }

    /// <summary>
    /// V[ξ, c, tile] = (Bᵀ d B)[ξ] for the band's tiles (tile rows b0..b1 over all images, image-major, columns inner),
    /// one channel per worker, each plane first copied into a zero-padded scratch so every tile reads without bounds checks.
    /// </summary>
    private unsafe void WinogradInputTiles<T>(T* x, int channels, WinogradTiling t, int b0, int b1, T* v, long stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int tiles = (b1 - b0) * t.TileCols, cols = t.TileCols, d = t.D;
        var (pr, pc) = t.Padded;
        long plane = (long)t.H * t.W;
        nint xb = (nint)x, vb = (nint)v;
        // Whole blocks of 16 tiles go through the vector transform (float, AVX-512, dilation 1, 2, 4 or 8): 16 of a tile row,
        // or, in rows of exactly 8 tiles (maps of up to 16 columns; how few depends on the dilation), two tile rows of one
        // image. The rest one tile at a time.
        bool vector = t.VectorBlocks<T>();
        int vectorTiles = vector ? cols / 16 * 16 : 0;
        bool pairs = vector && cols == 8;
        CpuParallel.For(Threads, channels, CpuParallel.Grain(16L * tiles), (c0, c1) =>
        {
            // The vector transform reads up to 3D + 31 columns past a block's first tile start (3D + 15 past a paired row's);
            // the slack keeps the last row's reads inside.
            var scratch = Workspace<T>.GetForWorker(pr * pc + 64, Accelerator);
            Span<int> starts = stackalloc int[cols];
            t.ColumnStarts(starts);
            fixed (T* padded = scratch)
                for (int c = c0; c < c1; c++)
                {
                    int image = -1;
                    T* vc = (T*)vb + (long)c * tiles;
                    for (int band = b0; band < b1; band++)
                    {
                        int n = band / t.TileRows, tr = band % t.TileRows;
                        if (n != image)
                        {
                            image = n;
                            PadPlane((T*)xb + ((long)n * channels + c) * plane, t, padded, pr, pc);
                        }
                        T* top = padded + (long)t.Start(tr) * pc;
                        T* vt = vc + (long)(band - b0) * cols;
                        if (pairs && t.HasNextInBand(band, b1))
                        {
                            WinogradInputBlock16((float*)top, (float*)padded + (long)t.Start(tr + 1) * pc, pc, d, (float*)vt, stride);
                            band++;
                            continue;
                        }
                        for (int tb = 0; tb < vectorTiles; tb += 16)
                            WinogradInputBlock16((float*)top + 2 * tb, (float*)top + 2 * tb + 16, pc, d, (float*)vt + tb, stride);
                        for (int tc = vectorTiles; tc < cols; tc++)
                        {
                            T* p = top + starts[tc];
                            // Bᵀ d: rows of the tile combined column by column (rows D·pc apart, columns D apart).
                            T* q0 = p, q1 = p + (long)d * pc, q2 = p + 2L * d * pc, q3 = p + 3L * d * pc;
                            T a00 = q0[0] - q2[0], a01 = q0[d] - q2[d], a02 = q0[2 * d] - q2[2 * d], a03 = q0[3 * d] - q2[3 * d];
                            T a10 = q1[0] + q2[0], a11 = q1[d] + q2[d], a12 = q1[2 * d] + q2[2 * d], a13 = q1[3 * d] + q2[3 * d];
                            T a20 = q2[0] - q1[0], a21 = q2[d] - q1[d], a22 = q2[2 * d] - q1[2 * d], a23 = q2[3 * d] - q1[3 * d];
                            T a30 = q1[0] - q3[0], a31 = q1[d] - q3[d], a32 = q1[2 * d] - q3[2 * d], a33 = q1[3 * d] - q3[3 * d];
                            // (Bᵀ d) B: the same combination along each row.
                            T* o = vt + tc;
                            o[0] = a00 - a02; o[stride] = a01 + a02; o[2 * stride] = a02 - a01; o[3 * stride] = a01 - a03;
                            o[4 * stride] = a10 - a12; o[5 * stride] = a11 + a12; o[6 * stride] = a12 - a11; o[7 * stride] = a11 - a13;
                            o[8 * stride] = a20 - a22; o[9 * stride] = a21 + a22; o[10 * stride] = a22 - a21; o[11 * stride] = a21 - a23;
                            o[12 * stride] = a30 - a32; o[13 * stride] = a31 + a32; o[14 * stride] = a32 - a31; o[15 * stride] = a31 - a33;
                        }
                    }
                }
        });
    }

    /// <summary>
    /// The input transform of 16 tiles: tile i &lt; 8 starts at column (i / D)·2D + i % D of the tile row at p, tile i ≥ 8 at
    /// that of tile i − 8 in the one at h (16 neighbouring tiles of a row starting at a multiple of 16, h = p + 16; or two
    /// tile rows of 8). The scalar loop's row and column combinations, same operations in the same order, over 16
    /// columns of each at once; each result then keeps the 16 columns where a tile starts.
    /// </summary>
    private static unsafe void WinogradInputBlock16(float* p, float* h, int pitch, int d, float* o, long stride)
    {
        var keep = WinogradTiling.StartLanes(d);
        long r1 = (long)d * pitch, r2 = 2 * r1, r3 = 3 * r1;
        // Bᵀ d's four rows: q0 − q2, q1 + q2, q2 − q1, q1 − q3; each gives four ξ.
        WinogradInputRow16(p, p + r2, h, h + r2, add: false, d, keep, o, stride);
        WinogradInputRow16(p + r1, p + r2, h + r1, h + r2, add: true, d, keep, o + 4 * stride, stride);
        WinogradInputRow16(p + r2, p + r1, h + r2, h + r1, add: false, d, keep, o + 8 * stride, stride);
        WinogradInputRow16(p + r1, p + r3, h + r1, h + r3, add: false, d, keep, o + 12 * stride, stride);
    }

    /// <summary>
    /// One row r = qa ± qb of Bᵀ d (ha ± hb for the tiles at h), then r B: [r0 − r2, r1 + r2, r2 − r1, r1 − r3] with r_k
    /// at column offset k·D.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WinogradInputRow16(float* qa, float* qb, float* ha, float* hb, bool add, int d, Vector512<int> keep, float* o, long stride)
    {
        Vector512<float> lo0 = WinogradRowPair(qa, qb, add, 0), lo1 = WinogradRowPair(qa, qb, add, d);
        Vector512<float> lo2 = WinogradRowPair(qa, qb, add, 2 * d), lo3 = WinogradRowPair(qa, qb, add, 3 * d);
        Vector512<float> hi0 = WinogradRowPair(ha, hb, add, 0), hi1 = WinogradRowPair(ha, hb, add, d);
        Vector512<float> hi2 = WinogradRowPair(ha, hb, add, 2 * d), hi3 = WinogradRowPair(ha, hb, add, 3 * d);
        Vector512.Store(Avx512F.PermuteVar16x32x2(lo0 - lo2, keep, hi0 - hi2), o);
        Vector512.Store(Avx512F.PermuteVar16x32x2(lo1 + lo2, keep, hi1 + hi2), o + stride);
        Vector512.Store(Avx512F.PermuteVar16x32x2(lo2 - lo1, keep, hi2 - hi1), o + 2 * stride);
        Vector512.Store(Avx512F.PermuteVar16x32x2(lo1 - lo3, keep, hi1 - hi3), o + 3 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> WinogradRowPair(float* qa, float* qb, bool add, int column) => add
        ? Vector512.Load(qa + column) + Vector512.Load(qb + column)
        : Vector512.Load(qa + column) - Vector512.Load(qb + column);

    /// <summary>Copies an H × W plane into a zeroed rows × cols scratch at offset (pad, pad).</summary>
    private static unsafe void PadPlane<T>(T* plane, WinogradTiling t, T* padded, int rows, int cols) where T : unmanaged
    {
        new Span<T>(padded, rows * cols).Clear();
        for (int r = 0; r < t.H; r++)
            new ReadOnlySpan<T>(plane + (long)r * t.W, t.W).CopyTo(new Span<T>(padded + (long)(r + t.Pad) * cols + t.Pad, t.W));
    }

    /// <summary>Ĝ[ξ, o, tile] = (A dy Aᵀ)[ξ], dy read as 0 where a tile reaches past the output (the adjoint of <see cref="WinogradOutputTiles"/>).</summary>
    private unsafe void WinogradGradTiles<T>(T* dy, int channels, WinogradTiling t, int b0, int b1, T* g, long stride) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = t.D, wo = t.Wo;
        nint yb = (nint)dy, gb = (nint)g;
        var (vectorTiles, pairs) = t.OutputBlocks<T>();
        ForEachOutputTileRow(channels, t, b0, b1, pairs, (c, image, r0, first, starts, next) =>
        {
            bool row0 = r0 < t.Ho, row1 = r0 + d < t.Ho;
            T* plane = (T*)yb + ((long)image * channels + c) * t.Ho * wo;
            T* src = plane + (long)r0 * wo;
            T* gt = (T*)gb + first;
            if (next >= 0)
            {
                WinogradGradBlock16((float*)src, row0, row1, (float*)plane + (long)next * wo, next < t.Ho, next + d < t.Ho, wo, d, (float*)gt, stride);
                return;
            }
            for (int tb = 0; tb < vectorTiles; tb += 16)
                WinogradGradBlock16((float*)src + 2 * tb, row0, row1, (float*)src + 2 * tb + 16, row0, row1, wo, d, (float*)gt + tb, stride);
            for (int tc = vectorTiles; tc < starts.Length; tc++)
            {
                int q0 = starts[tc];
                bool col0 = q0 < wo, col1 = q0 + d < wo;
                T y00 = row0 && col0 ? src[q0] : T.Zero, y01 = row0 && col1 ? src[q0 + d] : T.Zero;
                T y10 = row1 && col0 ? src[(long)d * wo + q0] : T.Zero, y11 = row1 && col1 ? src[(long)d * wo + q0 + d] : T.Zero;
                // A dy: rows [y0, y0 + y1, y0 − y1, −y1] for each column; then the same along each row.
                T s0 = y00 + y10, s1 = y01 + y11, e0 = y00 - y10, e1 = y01 - y11;
                T* o = gt + tc;
                o[0] = y00; o[stride] = y00 + y01; o[2 * stride] = y00 - y01; o[3 * stride] = -y01;
                o[4 * stride] = s0; o[5 * stride] = s0 + s1; o[6 * stride] = s0 - s1; o[7 * stride] = -s1;
                o[8 * stride] = e0; o[9 * stride] = e0 + e1; o[10 * stride] = e0 - e1; o[11 * stride] = -e1;
                o[12 * stride] = -y10; o[13 * stride] = -(y10 + y11); o[14 * stride] = y11 - y10; o[15 * stride] = y11;
            }
        });
    }

    /// <summary>
    /// The gradient-tile transform of 16 tiles: tile i &lt; 8's columns (i / D)·2D + i % D and that + D of the rows at dy
    /// and D below, tile i ≥ 8's (those of tile i − 8) at high (dy + 16, or the next tile row); a row past the output
    /// reads as 0, as every column does here. The scalar loop's combinations, same operations in the same order
    /// (negation flips the sign bit, as the scalar minus does, so −0 stays −0).
    /// </summary>
    private static unsafe void WinogradGradBlock16(float* dy, bool row0, bool row1, float* high, bool highRow0, bool highRow1, int pitch, int d,
        float* o, long stride)
    {
        var first = WinogradTiling.StartLanes(d);
        var second = first + Vector512.Create(d);
        long below = (long)d * pitch;
        Vector512<float> lo0 = row0 ? Vector512.Load(dy) : default, hi0 = highRow0 ? Vector512.Load(high) : default;
        Vector512<float> lo1 = row1 ? Vector512.Load(dy + below) : default, hi1 = highRow1 ? Vector512.Load(high + below) : default;
        Vector512<float> y00 = Avx512F.PermuteVar16x32x2(lo0, first, hi0), y01 = Avx512F.PermuteVar16x32x2(lo0, second, hi0);
        Vector512<float> y10 = Avx512F.PermuteVar16x32x2(lo1, first, hi1), y11 = Avx512F.PermuteVar16x32x2(lo1, second, hi1);
        var sign = Vector512.Create(-0f);
        Vector512<float> s0 = y00 + y10, s1 = y01 + y11, e0 = y00 - y10, e1 = y01 - y11;
        Vector512.Store(y00, o); Vector512.Store(y00 + y01, o + stride); Vector512.Store(y00 - y01, o + 2 * stride); Vector512.Store(y01 ^ sign, o + 3 * stride);
        Vector512.Store(s0, o + 4 * stride); Vector512.Store(s0 + s1, o + 5 * stride); Vector512.Store(s0 - s1, o + 6 * stride); Vector512.Store(s1 ^ sign, o + 7 * stride);
        Vector512.Store(e0, o + 8 * stride); Vector512.Store(e0 + e1, o + 9 * stride); Vector512.Store(e0 - e1, o + 10 * stride); Vector512.Store(e1 ^ sign, o + 11 * stride);
        Vector512.Store(y10 ^ sign, o + 12 * stride); Vector512.Store((y10 + y11) ^ sign, o + 13 * stride); Vector512.Store(y11 - y10, o + 14 * stride);
        Vector512.Store(y11, o + 15 * stride);
    }

    /// <summary>y[n, o, tile] = Aᵀ M[·, o, tile] A, written where the tile lies inside the output.</summary>
    private unsafe void WinogradOutputTiles<T>(T* m, long stride, T* y, int channels, WinogradTiling t, int b0, int b1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = t.D, wo = t.Wo;
        nint mb = (nint)m, yb = (nint)y;
        // Blocks of 16 tiles go through the vector transform (WinogradTiling.OutputBlocks): 16 of a tile row, or two tile rows
        // of 8 of one image inside the output. The rest one tile at a time.
        var (vectorTiles, pairs) = t.OutputBlocks<T>();
        ForEachOutputTileRow(channels, t, b0, b1, pairs, (c, image, r0, first, starts, next) =>
        {
            if (r0 >= t.Ho) return;
            bool row1 = r0 + d < t.Ho;
            T* dst = (T*)yb + ((long)image * channels + c) * t.Ho * wo + (long)r0 * wo;
            T* mt = (T*)mb + first;
            // A next row past the output writes nothing: this row then goes one tile at a time.
            if (next >= 0 && next < t.Ho)
            {
                WinogradOutputBlock16((float*)mt, stride, d, row1, (float*)dst, next + d < t.Ho, (float*)dst + (long)(next - r0) * wo, wo);
                return;
            }
            for (int tb = 0; tb < vectorTiles; tb += 16)
                WinogradOutputBlock16((float*)mt + tb, stride, d, row1, (float*)dst + 2 * tb, row1, (float*)dst + 2 * tb + 16, wo);
            for (int tc = vectorTiles; tc < starts.Length; tc++)
            {
                T* p = mt + tc;
                // Aᵀ M: rows m0 + m1 + m2 and m1 − m2 − m3, column by column; then the same along each row.
                T s0 = p[0] + p[4 * stride] + p[8 * stride], e0 = p[4 * stride] - p[8 * stride] - p[12 * stride];
                T s1 = p[stride] + p[5 * stride] + p[9 * stride], e1 = p[5 * stride] - p[9 * stride] - p[13 * stride];
                T s2 = p[2 * stride] + p[6 * stride] + p[10 * stride], e2 = p[6 * stride] - p[10 * stride] - p[14 * stride];
                T s3 = p[3 * stride] + p[7 * stride] + p[11 * stride], e3 = p[7 * stride] - p[11 * stride] - p[15 * stride];
                int q0 = starts[tc];
                if (q0 >= wo) continue;
                bool col1 = q0 + d < wo;
                dst[q0] = s0 + s1 + s2;
                if (col1) dst[q0 + d] = s1 - s2 - s3;
                if (!row1) continue;
                dst[(long)d * wo + q0] = e0 + e1 + e2;
                if (col1) dst[(long)d * wo + q0 + d] = e1 - e2 - e3;
            }
        });
    }

    /// <summary>
    /// The output transform of 16 tiles: the scalar loop's combinations, same operations in the same order, across the
    /// 16 tiles at once. Tile i &lt; 8's two output columns (i / D)·2D + i % D and that + D interleave into the 16 columns
    /// at dst, tile i ≥ 8's (those of tile i − 8) into the 16 at high (dst + 16 for 16 neighbouring tiles of a row, or
    /// the next tile row), each with the row D below when it exists.
    /// </summary>
    private static unsafe void WinogradOutputBlock16(float* p, long stride, int d, bool row1, float* dst, bool highRow1, float* high, int pitch)
    {
        Vector512<float> P(int xi) => Vector512.Load(p + xi * stride);
        Vector512<float> s0 = P(0) + P(4) + P(8), e0 = P(4) - P(8) - P(12);
        Vector512<float> s1 = P(1) + P(5) + P(9), e1 = P(5) - P(9) - P(13);
        Vector512<float> s2 = P(2) + P(6) + P(10), e2 = P(6) - P(10) - P(14);
        Vector512<float> s3 = P(3) + P(7) + P(11), e3 = P(7) - P(11) - P(15);
        // Column j = g·2D + r takes tile g·D + r's first column (r < D) or tile g·D + r − D's second (index + 16).
        int shift = BitOperations.Log2((uint)d);
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Vector512<int> Take(Vector512<int> j)
        {
            var r = j & Vector512.Create(2 * d - 1);
            var tile = Vector512.ShiftLeft(Vector512.ShiftRightLogical(j, shift + 1), shift) + (r & Vector512.Create(d - 1));
            return tile + (Vector512.GreaterThanOrEqual(r, Vector512.Create(d)) & Vector512.Create(16));
        }
        // Column j of the high columns takes tile Take(j) + 8's.
        Vector512<int> low = Take(lane), highTiles = low + Vector512.Create(8);
        Vector512<float> first = s0 + s1 + s2, second = s1 - s2 - s3;
        Vector512.Store(Avx512F.PermuteVar16x32x2(first, low, second), dst);
        Vector512.Store(Avx512F.PermuteVar16x32x2(first, highTiles, second), high);
        if (!row1 && !highRow1) return;
        first = e0 + e1 + e2;
        second = e1 - e2 - e3;
        if (row1) Vector512.Store(Avx512F.PermuteVar16x32x2(first, low, second), dst + (long)d * pitch);
        if (highRow1) Vector512.Store(Avx512F.PermuteVar16x32x2(first, highTiles, second), high + (long)d * pitch);
    }

    /// <summary>
    /// One band tile row of one channel: its image, first output row, the index of its first tile in the channel's
    /// [channel, tiles] matrix and its tiles' start columns; with pairs, the first output row of the next tile row whose
    /// tiles follow in the matrix (−1 if none).
    /// </summary>
    private delegate void TileRow(int channel, int image, int row0, long firstTile, ReadOnlySpan<int> starts, int nextRow0);

    /// <summary>
    /// Calls <paramref name="body"/> for every channel and tile row b0..b1 of the band, one channel range per worker, rows in
    /// order; with <paramref name="pairs"/>, once for each two rows of one image (the second given as the next row), and
    /// once for a row left without a partner.
    /// </summary>
    private void ForEachOutputTileRow(int channels, WinogradTiling t, int b0, int b1, bool pairs, TileRow body)
    {
        int tiles = (b1 - b0) * t.TileCols, cols = t.TileCols;
        CpuParallel.For(Threads, channels, CpuParallel.Grain(16L * tiles), (c0, c1) =>
        {
            Span<int> starts = stackalloc int[cols];
            t.ColumnStarts(starts);
            for (int c = c0; c < c1; c++)
                for (int band = b0; band < b1; band++)
                {
                    int tr = band % t.TileRows, next = -1;
                    if (pairs && t.HasNextInBand(band, b1)) next = t.Start(tr + 1);
                    body(c, band / t.TileRows, t.Start(tr), (long)c * tiles + (long)(band - b0) * cols, starts, next);
                    if (next >= 0) band++;
                }
        });
    }
}
