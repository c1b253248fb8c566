// Batched C[b] = A[b]·B[b] (or C[b] += A[b]·B[b]) with every operand addressed by row, column and batch
// strides, so transposed and broadcast views need no copy. Two tilings, chosen per device by defines:
//  - GEMM_LOCAL undefined (CPU devices such as PoCL): each work-item keeps a GEMM_TM × GEMM_TN tile of C
//    in registers and streams A and B from memory; PoCL vectorises across work-items.
//  - GEMM_LOCAL (GPUs): a work-group of GEMM_WG × GEMM_WG items stages GEMM_WG-wide tiles of A and B
//    in local memory, each item computing GEMM_TM × GEMM_TN outputs.
// Launch: dimension 0 over columns (N / GEMM_TN items), 1 over rows (M / GEMM_TM), 2 over batches.

#if !defined(GEMM_LOCAL)

__kernel void gemm(int m, int n, int k,
    __global const real* a, int a_off, int a_rs, int a_cs, int a_bs,
    __global const real* b, int b_off, int b_rs, int b_cs, int b_bs,
    __global real* c, int c_off, int c_rs, int c_bs, int accumulate)
{
    int j0 = get_global_id(0) * GEMM_TN, i0 = get_global_id(1) * GEMM_TM, batch = get_global_id(2);
    if (i0 >= m || j0 >= n) return;
    a += a_off + batch * a_bs;
    b += b_off + batch * b_bs;
    c += c_off + batch * c_bs;
    // Rows and columns past the edge read the last valid one and are never stored: no branch in the loop.
    int arow[GEMM_TM], bcol[GEMM_TN];
    for (int ii = 0; ii < GEMM_TM; ii++) arow[ii] = min(i0 + ii, m - 1) * a_rs;
    for (int jj = 0; jj < GEMM_TN; jj++) bcol[jj] = min(j0 + jj, n - 1) * b_cs;
    real acc[GEMM_TM][GEMM_TN];
    for (int ii = 0; ii < GEMM_TM; ii++)
        for (int jj = 0; jj < GEMM_TN; jj++) acc[ii][jj] = 0;
    for (int p = 0; p < k; p++)
    {
        real av[GEMM_TM], bv[GEMM_TN];
        for (int ii = 0; ii < GEMM_TM; ii++) av[ii] = a[arow[ii] + p * a_cs];
        for (int jj = 0; jj < GEMM_TN; jj++) bv[jj] = b[p * b_rs + bcol[jj]];
        for (int ii = 0; ii < GEMM_TM; ii++)
            for (int jj = 0; jj < GEMM_TN; jj++) acc[ii][jj] = fma(av[ii], bv[jj], acc[ii][jj]);
    }
    for (int ii = 0; ii < GEMM_TM; ii++)
        for (int jj = 0; jj < GEMM_TN; jj++)
            if (i0 + ii < m && j0 + jj < n)
            {
                int ci = (i0 + ii) * c_rs + j0 + jj;
                c[ci] = accumulate ? c[ci] + acc[ii][jj] : acc[ii][jj];
            }
}

#else

#define GEMM_BM (GEMM_WG * GEMM_TM)
#define GEMM_BN (GEMM_WG * GEMM_TN)

__kernel void gemm(int m, int n, int k,
    __global const real* a, int a_off, int a_rs, int a_cs, int a_bs,
    __global const real* b, int b_off, int b_rs, int b_cs, int b_bs,
    __global real* c, int c_off, int c_rs, int c_bs, int accumulate)
{
    __local real as[GEMM_WG][GEMM_BM];
    __local real bs[GEMM_WG][GEMM_BN];
    int tx = get_local_id(0), ty = get_local_id(1), batch = get_global_id(2);
    int row0 = get_group_id(1) * GEMM_BM, col0 = get_group_id(0) * GEMM_BN;
    a += a_off + batch * a_bs;
    b += b_off + batch * b_bs;
    c += c_off + batch * c_bs;
    real acc[GEMM_TM][GEMM_TN];
    for (int ii = 0; ii < GEMM_TM; ii++)
        for (int jj = 0; jj < GEMM_TN; jj++) acc[ii][jj] = 0;
    for (int p0 = 0; p0 < k; p0 += GEMM_WG)
    {
        // Item (tx, ty) loads A[row0 + ty·TM + ii, p0 + tx] and B[p0 + ty, col0 + tx·TN + jj]; zeros past the edges.
        for (int ii = 0; ii < GEMM_TM; ii++)
        {
            int r = row0 + ty * GEMM_TM + ii, p = p0 + tx;
            as[tx][ty * GEMM_TM + ii] = r < m && p < k ? a[r * a_rs + p * a_cs] : (real)0;
        }
        for (int jj = 0; jj < GEMM_TN; jj++)
        {
            int col = col0 + tx * GEMM_TN + jj, p = p0 + ty;
            bs[ty][tx * GEMM_TN + jj] = col < n && p < k ? b[p * b_rs + col * b_cs] : (real)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int p = 0; p < GEMM_WG; p++)
            for (int ii = 0; ii < GEMM_TM; ii++)
            {
                real av = as[p][ty * GEMM_TM + ii];
                for (int jj = 0; jj < GEMM_TN; jj++) acc[ii][jj] = fma(av, bs[p][tx * GEMM_TN + jj], acc[ii][jj]);
            }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int ii = 0; ii < GEMM_TM; ii++)
        for (int jj = 0; jj < GEMM_TN; jj++)
        {
            int r = row0 + ty * GEMM_TM + ii, col = col0 + tx * GEMM_TN + jj;
            if (r < m && col < n) c[r * c_rs + col] = accumulate ? c[r * c_rs + col] + acc[ii][jj] : acc[ii][jj];
        }
}

#endif
