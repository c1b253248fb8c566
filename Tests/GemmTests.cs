using System.Numerics;
using System.Runtime.InteropServices;
using IlgpuSeg.Engine;

namespace IlgpuSeg.Tests;

public unsafe class GemmTests
{
    static readonly int[] Sizes = [1, 7, 33, 65, 257];

    // (m, n, k) covering edge tiles in M and N, a single K step, several K blocks, and k = 0.
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int m in Sizes)
            foreach (int n in Sizes)
                data.Add(m, n, m == n ? 300 : 1 + (m * 7 + n) % 70);
        data.Add(6, 64, 1);
        data.Add(12, 128, 513);
        data.Add(100, 3, 1000);
        data.Add(5, 9, 0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SgemmMatchesReference(int m, int n, int k)
    {
        foreach (var (ta, tb) in TransposeCombos)
        {
            CheckAgainstReference<float>(ta, tb, m, n, k, 1f, 0f, pad: 0);
            CheckAgainstReference<float>(ta, tb, m, n, k, -0.75f, 1.5f, pad: 3);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DgemmMatchesReference(int m, int n, int k)
    {
        foreach (var (ta, tb) in TransposeCombos)
        {
            CheckAgainstReference<double>(ta, tb, m, n, k, 1.0, 0.0, pad: 0);
            CheckAgainstReference<double>(ta, tb, m, n, k, 2.0, -1.0, pad: 5);
        }
    }

    [Fact]
    public void AlphaZeroOnlyScalesC()
    {
        CheckAgainstReference<float>(false, false, 9, 70, 20, 0f, 0.5f, pad: 2);
        CheckAgainstReference<double>(true, true, 9, 70, 20, 0.0, 0.0, pad: 2);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void ResultIsBitwiseIndependentOfThreadCount(bool transA, bool transB)
    {
        // Big enough to run in parallel with several K blocks, A blocks' tiles and B blocks.
        const int m = 301, n = 700, k = 600;
        CheckThreadIndependence<float>(transA, transB, m, n, k);
        CheckThreadIndependence<double>(transA, transB, m, n, k);
    }

    [Fact]
    public void ResultIsBitwiseIndependentOfThreadCountForWideShortShapes()
    {
        // Few row panels, so the work is also split along N.
        CheckThreadIndependence<float>(false, false, 7, 3000, 64);
        CheckThreadIndependence<double>(false, false, 7, 3000, 64);
    }

    [Theory]
    [InlineData(6, 64, 256)]
    [InlineData(13, 130, 301)]
    [InlineData(7, 9, 5)]
    [InlineData(16, 147, 700)] // three K blocks of 234 (a tail of 2 rows), a last panel of 16 + 3 columns and 45 zeros
    public void TransposedBIsBitwiseTheSameProductAsTheExplicitTranspose(int m, int n, int k)
    {
        // Packing only moves values, so op(B) = Bᵀ read through the transposing packer (8 × 8 register blocks plus
        // scalar edges) must give the very bits of the same B stored the normal way. ldb > k exercises the stride.
        var rng = new Random(5);
        int ldbT = k + 3;
        var a = new float[m * k];
        var bT = new float[n * ldbT];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++) b[p * n + j] = bT[j * ldbT + p] = (float)(rng.NextDouble() * 2 - 1);
        var viaTranspose = new float[m * n];
        var direct = new float[m * n];
        fixed (float* pa = a, pbT = bT, pb = b, c1 = viaTranspose, c2 = direct)
        {
            Gemm.Sgemm(false, true, m, n, k, 1f, pa, k, pbT, ldbT, 0f, c1, n, 2);
            Gemm.Sgemm(false, false, m, n, k, 1f, pa, k, pb, n, 0f, c2, n, 2);
        }
        Assert.Equal(direct, viaTranspose);
    }

    /// <summary>
    /// Column groups (a batch of images sharing A) pack A once for all groups; each element must still get the bits of a
    /// GEMM per group: 128 columns per group (a multiple of NR, one shared GEMM) and 40 (a GEMM per group). B and C have
    /// gaps between groups and padded rows; C is accumulated into (beta ≠ 0); three K blocks.
    /// </summary>
    [Theory]
    [InlineData(false, 128)]
    [InlineData(true, 128)]
    [InlineData(false, 40)]
    [InlineData(true, 40)]
    public void ColumnGroupsHaveTheBitsOfAGemmPerGroup(bool transA, int groupCols)
    {
        CheckColumnGroups<float>(transA, groupCols);
        CheckColumnGroups<double>(transA, groupCols);
    }

    static void CheckColumnGroups<T>(bool transA, int groupCols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int m = 50, k = 600, groups = 3;
        int lda = transA ? m : k, ldb = groupCols + 5, ldc = groupCols + 2;
        long bStride = (long)k * ldb + 7, cStride = (long)m * ldc + 3;
        var rng = new Random(groupCols);
        T[] a = Random<T>(rng, (transA ? k : m) * lda), b = Random<T>(rng, (int)(groups * bStride));
        T[] grouped = Random<T>(rng, (int)(groups * cStride)), perGroup = (T[])grouped.Clone();
        T alpha = T.CreateTruncating(0.5), beta = T.CreateTruncating(-1.25);
        fixed (T* pa = a, pb = b, pg = grouped, pp = perGroup)
        {
            T* aa = pa;
            void Call(T* bb, T* cc, int n, int groupCount)
            {
                if (typeof(T) == typeof(float))
                    Gemm.Sgemm(transA, false, m, n, k, (float)(object)alpha, (float*)aa, lda, (float*)bb, ldb, (float)(object)beta, (float*)cc, ldc, 2,
                        groupCount, bStride, cStride);
                else
                    Gemm.Dgemm(transA, false, m, n, k, (double)(object)alpha, (double*)aa, lda, (double*)bb, ldb, (double)(object)beta, (double*)cc, ldc, 2,
                        groupCount, bStride, cStride);
            }
            Call(pb, pg, groups * groupCols, groups);
            for (int g = 0; g < groups; g++) Call(pb + g * bStride, pp + g * cStride, groupCols, 1);
        }
        Assert.Equal(perGroup, grouped);
    }

    static readonly (bool, bool)[] TransposeCombos = [(false, false), (true, false), (false, true), (true, true)];

    static void CheckAgainstReference<T>(bool transA, bool transB, int m, int n, int k, T alpha, T beta, int pad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(m * 1_000_003 + n * 1009 + k);
        // Stored shapes: A is m×k (k×m if transposed), B is k×n (n×k if transposed); rows padded by `pad`.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
        T[] a = Random<T>(rng, aRows * lda), b = Random<T>(rng, bRows * ldb);
        T[] c0 = Random<T>(rng, m * ldc);
        if (beta == T.Zero) Array.Fill(c0, T.NaN); // beta == 0 must not read C
        T[] fast = (T[])c0.Clone(), reference = (T[])c0.Clone();
        // |alpha|·|A|·|B| + |beta·C| bounds the rounding error of any summation order.
        T[] absA = Array.ConvertAll(a, T.Abs), absB = Array.ConvertAll(b, T.Abs);
        T[] bound = Array.ConvertAll(c0, x => beta == T.Zero ? T.Zero : T.Abs(beta * x));

        fixed (T* pa = a, pb = b, pf = fast, pr = reference, paa = absA, pab = absB, pbound = bound)
        {
            if (typeof(T) == typeof(float))
                Gemm.Sgemm(transA, transB, m, n, k, (float)(object)alpha, (float*)pa, lda, (float*)pb, ldb,
                    (float)(object)beta, (float*)pf, ldc, threads: 2);
            else
                Gemm.Dgemm(transA, transB, m, n, k, (double)(object)alpha, (double*)pa, lda, (double*)pb, ldb,
                    (double)(object)beta, (double*)pf, ldc, threads: 2);
            Gemm.Reference(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pr, ldc);
            Gemm.Reference(transA, transB, m, n, k, T.Abs(alpha), paa, lda, pab, ldb, T.One, pbound, ldc);
        }

        // Each summation order is within about k unit roundoffs of exact; two orders, plus alpha and beta steps.
        T tolerance = UnitRoundoff<T>() * T.CreateChecked(2 * (k + 2));
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                int idx = i * ldc + j;
                if (j >= n)
                {
                    // Padding columns of C are outside the view and must be untouched.
                    Assert.Equal(BitConverterBits(c0[idx]), BitConverterBits(fast[idx]));
                    continue;
                }
                T err = T.Abs(fast[idx] - reference[idx]);
                T allowed = tolerance * bound[idx] + T.Epsilon;
                Assert.True(err <= allowed,
                    $"{typeof(T).Name} tA={transA} tB={transB} {m}x{n}x{k} alpha={alpha} beta={beta}: " +
                    $"C[{i},{j}] = {fast[idx]}, reference {reference[idx]}, |diff| {err} > {allowed}");
            }
        }
    }

    static void CheckThreadIndependence<T>(bool transA, bool transB, int m, int n, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(42);
        T[] a = Random<T>(rng, m * k), b = Random<T>(rng, k * n), c0 = Random<T>(rng, m * n);
        int lda = transA ? m : k, ldb = transB ? k : n;
        ulong[]? first = null;
        foreach (int threads in new[] { 1, 2, 3, 8 })
        {
            T[] c = (T[])c0.Clone();
            fixed (T* pa = a, pb = b, pc = c)
            {
                if (typeof(T) == typeof(float))
                    Gemm.Sgemm(transA, transB, m, n, k, 0.5f, (float*)pa, lda, (float*)pb, ldb, 0.25f, (float*)pc, n, threads);
                else
                    Gemm.Dgemm(transA, transB, m, n, k, 0.5, (double*)pa, lda, (double*)pb, ldb, 0.25, (double*)pc, n, threads);
            }
            ulong[] bits = Array.ConvertAll(c, BitConverterBits);
            if (first is null) first = bits;
            else Assert.True(first.AsSpan().SequenceEqual(bits), $"{typeof(T).Name} threads={threads} differs from threads=1");
        }
    }

    static T UnitRoundoff<T>() where T : IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? T.CreateChecked(Math.ScaleB(1, -24)) : T.CreateChecked(Math.ScaleB(1, -53));

    static ulong BitConverterBits<T>(T x) where T : unmanaged
        => typeof(T) == typeof(float) ? BitConverter.SingleToUInt32Bits((float)(object)x) : BitConverter.DoubleToUInt64Bits((double)(object)x);

    static T[] Random<T>(Random rng, int count) where T : IFloatingPointIeee754<T>
    {
        var data = new T[count];
        for (int i = 0; i < count; i++) data[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return data;
    }
}
