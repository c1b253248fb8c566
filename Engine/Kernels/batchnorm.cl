// Batch norm over contiguous x [N, C, S]. Per-channel sums take one work-group per channel (tree order
// fixed by N·S and RWG); the per-element parts are plain maps.

inline int bn_index(int e, int c, int s, int ch) { return (e / s * c + ch) * s + e % s; }

__kernel void bn_stats(int n, int c, int s, __global const real* x, int x_off, __global real* mean, int m_off,
    __global real* variance, int v_off)
{
    __local real part[RWG];
    int ch = get_group_id(0), t = get_local_id(0), count = n * s;
    real sum = 0;
    for (int e = t; e < count; e += RWG) sum += x[x_off + bn_index(e, c, s, ch)];
    real m = group_sum(part, sum) / (real)count;
    real squares = 0;
    for (int e = t; e < count; e += RWG)
    {
        real d = x[x_off + bn_index(e, c, s, ch)] - m;
        squares += d * d;
    }
    squares = group_sum(part, squares);
    if (t == 0)
    {
        mean[m_off + ch] = m;
        variance[v_off + ch] = squares / (real)count;
    }
}

// y = (x − mean[c]) · invStd[c] · weight[c] + bias[c]; a null weight or bias is passed as has_* = 0.
__kernel void bn_forward(int count, int c, int s, __global const real* x, int x_off, __global const real* mean, int m_off,
    __global const real* inv_std, int i_off, int has_weight, __global const real* weight, int w_off, int w_stride,
    int has_bias, __global const real* bias, int b_off, int b_stride, __global real* y, int y_off)
{
    int i = get_global_id(0);
    if (i >= count) return;
    int ch = i / s % c;
    real scale = inv_std[i_off + ch] * (has_weight ? weight[w_off + ch * w_stride] : (real)1);
    real shift = has_bias ? bias[b_off + ch * b_stride] : (real)0;
    y[y_off + i] = (x[x_off + i] - mean[m_off + ch]) * scale + shift;
}

// dbias[c] = Σ dy, dweight[c] = Σ dy·x̂.
__kernel void bn_backward_sums(int n, int c, int s, __global const real* x, int x_off, __global const real* dy, int dy_off,
    __global const real* mean, int m_off, __global const real* inv_std, int i_off,
    __global real* dweight, int dw_off, __global real* dbias, int db_off)
{
    __local real part[RWG];
    int ch = get_group_id(0), t = get_local_id(0), count = n * s;
    real m = mean[m_off + ch], istd = inv_std[i_off + ch];
    real sum_dy = 0, sum_dy_xhat = 0;
    for (int e = t; e < count; e += RWG)
    {
        int i = bn_index(e, c, s, ch);
        real g = dy[dy_off + i];
        sum_dy += g;
        sum_dy_xhat += g * (x[x_off + i] - m) * istd;
    }
    sum_dy = group_sum(part, sum_dy);
    sum_dy_xhat = group_sum(part, sum_dy_xhat);
    if (t == 0)
    {
        dbias[db_off + ch] = sum_dy;
        dweight[dw_off + ch] = sum_dy_xhat;
    }
}

// With batch statistics dx = w·istd·(dy − mean(dy) − x̂·mean(dy·x̂)); with running statistics dx = w·istd·dy.
__kernel void bn_backward_dx(int count, int c, int s, int batch_statistics, __global const real* x, int x_off,
    __global const real* dy, int dy_off, __global const real* mean, int m_off, __global const real* inv_std, int i_off,
    int has_weight, __global const real* weight, int w_off, int w_stride,
    __global const real* dweight, int dw_off, __global const real* dbias, int db_off, __global real* dx, int dx_off)
{
    int i = get_global_id(0);
    if (i >= count) return;
    int ch = i / s % c;
    real total = (real)(count / c);
    real istd = inv_std[i_off + ch], w = has_weight ? weight[w_off + ch * w_stride] : (real)1;
    real mean_dy = batch_statistics ? dbias[db_off + ch] / total : (real)0;
    real mean_dy_xhat = batch_statistics ? dweight[dw_off + ch] / total : (real)0;
    real xhat = (x[x_off + i] - mean[m_off + ch]) * istd;
    dx[dx_off + i] = w * istd * (dy[dy_off + i] - mean_dy - xhat * mean_dy_xhat);
}
