// Negative log-likelihood for logp [N, C, S] and integer targets [N·S].

__kernel void nll(int count, int classes, int spatial, int ignore_index, __global const real* logp, int lp_off,
    __global const int* target, int has_weight, __global const real* weight, int w_off, int w_stride,
    __global real* loss, int l_off, __global real* used, int u_off)
{
    int i = get_global_id(0);
    if (i >= count) return;
    int t = target[i];
    if (t == ignore_index)
    {
        loss[l_off + i] = 0;
        used[u_off + i] = 0;
        return;
    }
    real wt = has_weight ? weight[w_off + t * w_stride] : (real)1;
    int n = i / spatial, s = i % spatial;
    loss[l_off + i] = -wt * logp[lp_off + (n * classes + t) * spatial + s];
    used[u_off + i] = wt;
}

// dlogp[n, t, s] = −w[t] · g[n, s]; dlogp arrives zeroed.
__kernel void nll_backward(int count, int classes, int spatial, int ignore_index, __global const real* g, int g_off,
    __global const int* target, int has_weight, __global const real* weight, int w_off, int w_stride,
    __global real* dlogp, int d_off)
{
    int i = get_global_id(0);
    if (i >= count) return;
    int t = target[i];
    if (t == ignore_index) return;
    real wt = has_weight ? weight[w_off + t * w_stride] : (real)1;
    int n = i / spatial, s = i % spatial;
    dlogp[d_off + (n * classes + t) * spatial + s] = -wt * g[g_off + i];
}
