// Index ops on contiguous [outer, n, rest] views. The accumulating ones give each work-item one
// (outer, rest) column and walk the indices in order: deterministic sums without atomics.

// y[o, j, r] = x[o, index[j], r] for y [outer, m, rest].
__kernel void index_select(int outer, int n, int m, int rest, __global const real* x, int x_off, __global const int* index,
    __global real* y, int y_off)
{
    int i = get_global_id(0);
    if (i >= outer * m * rest) return;
    int r = i % rest, j = i / rest % m, o = i / (rest * m);
    y[y_off + i] = x[x_off + (o * n + index[j]) * rest + r];
}

// dx[o, index[j], r] += dy[o, j, r].
__kernel void index_add(int outer, int n, int m, int rest, __global const real* dy, int dy_off, __global const int* index,
    __global real* dx, int dx_off)
{
    int i = get_global_id(0);
    if (i >= outer * rest) return;
    int r = i % rest, o = i / rest;
    for (int j = 0; j < m; j++) dx[dx_off + (o * n + index[j]) * rest + r] += dy[dy_off + (o * m + j) * rest + r];
}

// y[o, j, r] = x[o, index[o, j, r], r].
__kernel void gather(int outer, int n, int m, int rest, __global const real* x, int x_off, __global const int* index,
    __global real* y, int y_off)
{
    int i = get_global_id(0);
    if (i >= outer * m * rest) return;
    int r = i % rest, o = i / (rest * m);
    y[y_off + i] = x[x_off + (o * n + index[i]) * rest + r];
}

// dx[o, index[o, j, r], r] += dy[o, j, r].
__kernel void scatter_add(int outer, int n, int m, int rest, __global const real* dy, int dy_off, __global const int* index,
    __global real* dx, int dx_off)
{
    int i = get_global_id(0);
    if (i >= outer * rest) return;
    int r = i % rest, o = i / rest;
    for (int j = 0; j < m; j++)
    {
        int e = (o * m + j) * rest + r;
        dx[dx_off + (o * n + index[e]) * rest + r] += dy[dy_off + e];
    }
}
