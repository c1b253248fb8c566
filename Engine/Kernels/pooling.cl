// Pooling over planes x [P, H, W] → y [P, Ho, Wo]. The backward passes gather or walk a plane in output
// order, so every sum has a fixed order without atomics.

typedef struct
{
    int planes, h, w, ho, wo, size, stride, padding, adaptive;
} pool_t;

__kernel void maxpool(pool_t g, __global const real* x, int x_off, __global real* y, int y_off, __global int* argmax)
{
    int i = get_global_id(0);
    if (i >= g.planes * g.ho * g.wo) return;
    int ow = i % g.wo, oh = i / g.wo % g.ho, p = i / (g.wo * g.ho);
    int h0 = oh * g.stride - g.padding, w0 = ow * g.stride - g.padding;
    int h1 = min(h0 + g.size, g.h), w1 = min(w0 + g.size, g.w);
    h0 = max(h0, 0);
    w0 = max(w0, 0);
    __global const real* xp = x + x_off + p * g.h * g.w;
    real best = -INFINITY;
    int best_index = h0 * g.w + w0;
    for (int ih = h0; ih < h1 && !isnan(best); ih++)
        for (int iw = w0; iw < w1; iw++)
        {
            real v = xp[ih * g.w + iw];
            if (v > best || isnan(v))
            {
                best = v;
                best_index = ih * g.w + iw;
                if (isnan(v)) break; // NaN propagates, as in PyTorch
            }
        }
    y[y_off + i] = best;
    argmax[i] = best_index;
}

// One work-item per plane adds dy into dx[argmax] in output order (windows may overlap).
__kernel void maxpool_backward(int planes, int out_plane, int in_plane, __global const real* dy, int dy_off,
    __global const int* argmax, __global real* dx, int dx_off)
{
    int p = get_global_id(0);
    if (p >= planes) return;
    for (int i = 0; i < out_plane; i++) dx[dx_off + p * in_plane + argmax[p * out_plane + i]] += dy[dy_off + p * out_plane + i];
}

// The window of output index i along an axis of size n: count_include_pad clips to the padded extent for
// the divisor and to the input for the sum; adaptive uses [⌊i·n/out⌋, ⌈(i+1)·n/out⌉).
inline void pool_window(pool_t g, int i, int n, int out, int* start, int* end, int* divisor)
{
    if (g.adaptive)
    {
        *start = i * n / out;
        *end = ((i + 1) * n + out - 1) / out;
        *divisor = *end - *start;
        return;
    }
    int s = i * g.stride - g.padding, e = min(s + g.size, n + g.padding);
    *divisor = e - s;
    *start = max(s, 0);
    *end = min(e, n);
}

__kernel void avgpool(pool_t g, __global const real* x, int x_off, __global real* y, int y_off)
{
    int i = get_global_id(0);
    if (i >= g.planes * g.ho * g.wo) return;
    int ow = i % g.wo, oh = i / g.wo % g.ho, p = i / (g.wo * g.ho);
    int h0, h1, hd, w0, w1, wd;
    pool_window(g, oh, g.h, g.ho, &h0, &h1, &hd);
    pool_window(g, ow, g.w, g.wo, &w0, &w1, &wd);
    __global const real* xp = x + x_off + p * g.h * g.w;
    real sum = 0;
    for (int ih = h0; ih < h1; ih++)
        for (int iw = w0; iw < w1; iw++) sum += xp[ih * g.w + iw];
    y[y_off + i] = sum / (real)(hd * wd);
}

// The outputs whose windows may hold input index i along an axis: all of them for adaptive windows,
// else those with start ≤ i < start + kernel.
inline void pool_candidates(pool_t g, int i, int out, int* first, int* last)
{
    if (g.adaptive)
    {
        *first = 0;
        *last = out - 1;
        return;
    }
    int t = i + g.padding;
    *first = t < g.size ? 0 : (t - g.size) / g.stride + 1;
    *last = min(t / g.stride, out - 1);
}

// dx[p, ih, iw] = Σ dy[p, oh, ow] / divisor over the windows holding (ih, iw), in output order.
__kernel void avgpool_backward(pool_t g, __global const real* dy, int dy_off, __global real* dx, int dx_off)
{
    int i = get_global_id(0);
    if (i >= g.planes * g.h * g.w) return;
    int iw = i % g.w, ih = i / g.w % g.h, p = i / (g.w * g.h);
    int oh0, oh1, ow0, ow1;
    pool_candidates(g, ih, g.ho, &oh0, &oh1);
    pool_candidates(g, iw, g.wo, &ow0, &ow1);
    __global const real* gp = dy + dy_off + p * g.ho * g.wo;
    real sum = 0;
    for (int oh = oh0; oh <= oh1; oh++)
    {
        int h0, h1, hd;
        pool_window(g, oh, g.h, g.ho, &h0, &h1, &hd);
        if (ih < h0 || ih >= h1) continue;
        for (int ow = ow0; ow <= ow1; ow++)
        {
            int w0, w1, wd;
            pool_window(g, ow, g.w, g.wo, &w0, &w1, &wd);
            if (iw < w0 || iw >= w1) continue;
            sum += gp[oh * g.wo + ow] / (real)(hd * wd);
        }
    }
    dx[dx_off + i] += sum;
}
