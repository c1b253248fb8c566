// Softmax and log-softmax along rows of a contiguous [rows, n], one work-group per row.

__kernel void softmax_rows(int n, int log_softmax, __global const real* x, int x_off, __global real* y, int y_off)
{
    __local real part[RWG];
    int row = get_group_id(0), t = get_local_id(0);
    __global const real* xr = x + x_off + row * n;
    __global real* yr = y + y_off + row * n;
    real m = -INFINITY;
    for (int j = t; j < n; j += RWG) m = max_nan(m, xr[j]);
    m = group_max(part, m);
    if (m == -INFINITY) m = 0; // an all −inf row gives NaN, as in PyTorch
    real s = 0;
    for (int j = t; j < n; j += RWG) s += exp(xr[j] - m);
    s = group_sum(part, s);
    if (log_softmax)
    {
        real log_sum = log(s) + m;
        for (int j = t; j < n; j += RWG) yr[j] = xr[j] - log_sum;
    }
    else
    {
        real inv = (real)1 / s;
        for (int j = t; j < n; j += RWG) yr[j] = exp(xr[j] - m) * inv;
    }
}

// softmax: dx = y ⊙ (dy − Σ dy⊙y); log-softmax: dx = dy − exp(y) · Σ dy.
__kernel void softmax_backward_rows(int n, int log_softmax, __global const real* y, int y_off, __global const real* dy, int dy_off,
    __global real* dx, int dx_off)
{
    __local real part[RWG];
    int row = get_group_id(0), t = get_local_id(0);
    __global const real* yr = y + y_off + row * n;
    __global const real* gr = dy + dy_off + row * n;
    __global real* dr = dx + dx_off + row * n;
    real dot = 0;
    for (int j = t; j < n; j += RWG) dot += log_softmax ? gr[j] : gr[j] * yr[j];
    dot = group_sum(part, dot);
    for (int j = t; j < n; j += RWG) dr[j] = log_softmax ? gr[j] - exp(yr[j]) * dot : yr[j] * (gr[j] - dot);
}
