// Bilinear resize of planes [P, H, W] → [P, Ho, Wo] with PyTorch's source-index rule, computed in the
// element type as the CPU backend does. `scale` is computed on the host: (in − 1)/(out − 1) with
// align_corners, else in/out.

// The lower source index of output o and the weight of the upper one.
inline int bilinear_tap(real scale, int o, int align, real* upper)
{
    real src = align ? scale * (real)o : scale * ((real)o + (real)0.5) - (real)0.5;
    if (src < (real)0) src = 0;
    int lo = (int)src;
    real f = src - (real)lo;
    *upper = f < (real)0 ? (real)0 : f > (real)1 ? (real)1 : f;
    return lo;
}

// The weight output o gives input i along one axis of size n (both taps count when they coincide).
inline real bilinear_weight(real scale, int o, int n, int align, int i)
{
    real l1;
    int lo = bilinear_tap(scale, o, align, &l1);
    int hi = lo < n - 1 ? lo + 1 : lo;
    return (lo == i ? (real)1 - l1 : (real)0) + (hi == i ? l1 : (real)0);
}

__kernel void resize_bilinear(int planes, int h, int w, int ho, int wo, real scale_h, real scale_w, int align,
    __global const real* x, int x_off, __global real* y, int y_off)
{
    int i = get_global_id(0);
    if (i >= planes * ho * wo) return;
    int ow = i % wo, oh = i / wo % ho, p = i / (wo * ho);
    real hl1, wl1;
    int h0 = bilinear_tap(scale_h, oh, align, &hl1), w0 = bilinear_tap(scale_w, ow, align, &wl1);
    int h1 = h0 < h - 1 ? h0 + 1 : h0, w1 = w0 < w - 1 ? w0 + 1 : w0;
    real hl0 = (real)1 - hl1, wl0 = (real)1 - wl1;
    __global const real* xp = x + x_off + p * h * w;
    real top = xp[h0 * w + w0] * wl0 + xp[h0 * w + w1] * wl1;
    real bottom = xp[h1 * w + w0] * wl0 + xp[h1 * w + w1] * wl1;
    y[y_off + i] = top * hl0 + bottom * hl1;
}

// The outputs that can reach input i: source positions within one of i, widened by one for rounding.
inline void bilinear_candidates(real scale, int i, int out, int align, int* first, int* last)
{
    if (scale <= (real)0)
    {
        *first = 0;
        *last = out - 1;
        return;
    }
    real lo = align ? (real)(i - 1) / scale : ((real)i - (real)0.5) / scale - (real)0.5;
    real hi = align ? (real)(i + 1) / scale : ((real)i + (real)1.5) / scale - (real)0.5;
    *first = max((int)floor(lo) - 1, 0);
    *last = min((int)ceil(hi) + 1, out - 1);
}

// dx[p, ih, iw] = Σ weight_h · weight_w · dy over the outputs reaching it: a gather, so no atomics.
__kernel void resize_bilinear_backward(int planes, int h, int w, int ho, int wo, real scale_h, real scale_w, int align,
    __global const real* dy, int dy_off, __global real* dx, int dx_off)
{
    int i = get_global_id(0);
    if (i >= planes * h * w) return;
    int iw = i % w, ih = i / w % h, p = i / (w * h);
    int oh0, oh1, ow0, ow1;
    bilinear_candidates(scale_h, ih, ho, align, &oh0, &oh1);
    bilinear_candidates(scale_w, iw, wo, align, &ow0, &ow1);
    __global const real* gp = dy + dy_off + p * ho * wo;
    real sum = 0;
    for (int oh = oh0; oh <= oh1; oh++)
    {
        real wh = bilinear_weight(scale_h, oh, h, align, ih);
        if (wh == (real)0) continue;
        for (int ow = ow0; ow <= ow1; ow++)
        {
            real ww = bilinear_weight(scale_w, ow, w, align, iw);
            if (ww != (real)0) sum += wh * ww * gp[oh * wo + ow];
        }
    }
    dx[dx_off + i] += sum;
}
