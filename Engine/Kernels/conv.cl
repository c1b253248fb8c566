// Convolution pieces around gemm.cl: im2col of a channel slab for every image, its adjoint col2im written
// as a gather (each input element sums its own taps in a fixed order: no atomics), and the bias.
// col is [N][(c − c0)·kh·kw + ki·kw + kj][ho·wo].

typedef struct
{
    int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;
} conv_t;

__kernel void im2col(conv_t g, int c0, int c1, __global const real* x, int x_off, __global real* col)
{
    int rows = (c1 - c0) * g.kh * g.kw, p = g.ho * g.wo;
    int i = get_global_id(0);
    if (i >= g.n * rows * p) return;
    int pos = i % p, r = (i / p) % rows, img = i / (p * rows);
    int c = c0 + r / (g.kh * g.kw), ki = r % (g.kh * g.kw) / g.kw, kj = r % g.kw;
    int ih = pos / g.wo * g.sh - g.ph + ki * g.dh, iw = pos % g.wo * g.sw - g.pw + kj * g.dw;
    col[i] = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w ? x[x_off + ((img * g.c + c) * g.h + ih) * g.w + iw] : (real)0;
}

__kernel void col2im(conv_t g, int c0, int c1, __global const real* col, __global real* dx, int dx_off)
{
    int plane = g.h * g.w, rows = (c1 - c0) * g.kh * g.kw, p = g.ho * g.wo;
    int i = get_global_id(0);
    if (i >= g.n * (c1 - c0) * plane) return;
    int iw = i % g.w, ih = i / g.w % g.h, cs = i / plane % (c1 - c0), img = i / (plane * (c1 - c0));
    __global const real* colc = col + (img * rows + cs * g.kh * g.kw) * p;
    real s = 0;
    for (int ki = 0; ki < g.kh; ki++)
    {
        int th = ih + g.ph - ki * g.dh;
        if (th < 0 || th % g.sh != 0 || th / g.sh >= g.ho) continue;
        for (int kj = 0; kj < g.kw; kj++)
        {
            int tw = iw + g.pw - kj * g.dw;
            if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.wo) continue;
            s += colc[(ki * g.kw + kj) * p + th / g.sh * g.wo + tw / g.sw];
        }
    }
    dx[dx_off + ((img * g.c + c0 + cs) * plane) + ih * g.w + iw] = s;
}

// y[n, o, :] += bias[o] for contiguous y [N, channels, plane].
__kernel void add_channel_bias(int count, int channels, int plane, __global real* y, int y_off,
    __global const real* bias, int b_off, int b_stride)
{
    int i = get_global_id(0);
    if (i >= count) return;
    y[y_off + i] += bias[b_off + (i / plane % channels) * b_stride];
}
