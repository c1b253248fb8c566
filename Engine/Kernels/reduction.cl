// Row reductions of a contiguous [rows, n]: one work-group of RWG items per row, each item a strided
// slice, then a tree in local memory. The order is fixed by n and RWG, so results are deterministic.

__kernel void sum_rows(int n, __global const real* x, int x_off, __global real* y, int y_off)
{
    __local real part[RWG];
    int row = get_group_id(0), t = get_local_id(0);
    __global const real* xr = x + x_off + row * n;
    real s = 0;
    for (int j = t; j < n; j += RWG) s += xr[j];
    s = group_sum(part, s);
    if (t == 0) y[y_off + row] = s;
}

// Max and the first index attaining it; a NaN wins over numbers (the first NaN over later ones).
inline int better(real v, int j, real m, int best)
{
    if (best < 0) return 1;
    if (isnan(v) || isnan(m)) return isnan(v) && (!isnan(m) || j < best);
    return v > m || (v == m && j < best);
}

__kernel void max_rows(int n, __global const real* x, int x_off, __global real* y, int y_off, __global int* argmax)
{
    __local real value[RWG];
    __local int index[RWG];
    int row = get_group_id(0), t = get_local_id(0);
    __global const real* xr = x + x_off + row * n;
    real m = 0;
    int best = -1;
    for (int j = t; j < n; j += RWG)
        if (better(xr[j], j, m, best))
        {
            m = xr[j];
            best = j;
        }
    value[t] = m;
    index[t] = best;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = RWG / 2; w > 0; w >>= 1)
    {
        if (t < w && index[t + w] >= 0 && better(value[t + w], index[t + w], value[t], index[t]))
        {
            value[t] = value[t + w];
            index[t] = index[t + w];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0)
    {
        y[y_off + row] = value[0];
        argmax[row] = index[0];
    }
}
