// Copy, fill and dtype casts over strided views (operand 0 = source, 1 = destination).

__kernel void copy_strided(int n, layout_t l, __global const real* src, __global real* dst)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int off[2];
    layout_offsets(&l, i, 2, off);
    dst[off[1]] = src[off[0]];
}

__kernel void fill(int n, layout_t l, __global real* dst, real value)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int off[1];
    layout_offsets(&l, i, 1, off);
    dst[off[0]] = value;
}

#if defined(REAL_IS_DOUBLE)
// Only the double program has both types, so the casts live there.
__kernel void cast_float_to_double(int n, layout_t l, __global const float* src, __global double* dst)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int off[2];
    layout_offsets(&l, i, 2, off);
    dst[off[1]] = (double)src[off[0]];
}

__kernel void cast_double_to_float(int n, layout_t l, __global const double* src, __global float* dst)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int off[2];
    layout_offsets(&l, i, 2, off);
    dst[off[1]] = (float)src[off[0]];
}
#endif
