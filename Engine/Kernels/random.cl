// Philox-4x32-10 and the maps to floats, bit for bit as Engine/Generator.cs: element i uses counter
// first + i, so the values equal the CPU backend's whatever the launch shape.

inline void philox(ulong key, ulong counter, uint* out)
{
    uint k0 = (uint)key, k1 = (uint)(key >> 32);
    uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
    for (int round = 0; round < 10; round++)
    {
        uint hi0 = MULHI(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint hi1 = MULHI(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

#if defined(HAS_FP64)
// The CPU computes a + (b - a)·u and a + b·normal in double, then rounds to the element type.
__kernel void random_fill(int n, __global real* dst, int dst_off, ulong seed, ulong first, int normal, double a, double b)
{
    int i = get_global_id(0);
    if (i >= n) return;
    uint w[4];
    philox(seed, first + (ulong)i, w);
    double u1 = (double)((((ulong)w[0] << 32) | w[1]) >> 11) * (1.0 / 9007199254740992.0);
    double v;
    if (normal)
    {
        double u2 = (double)((((ulong)w[2] << 32) | w[3]) >> 11) * (1.0 / 9007199254740992.0);
        double z = sqrt(-2.0 * log(1.0 - u1)) * cos(DMUL_RN(6.283185307179586, u2));
        v = DADD_RN(a, DMUL_RN(b, z));
    }
    else
    {
#if defined(REAL_IS_DOUBLE)
        double u = u1;
#else
        double u = (double)((float)(w[0] >> 8) * (1.0f / 16777216.0f));
#endif
        v = DADD_RN(a, DMUL_RN(b - a, u));
    }
    dst[dst_off + i] = (real)v;
}
#else
// Devices without fp64 compute the same maps in float: values can differ from the CPU in the last bit.
__kernel void random_fill(int n, __global real* dst, int dst_off, ulong seed, ulong first, int normal, float a, float b)
{
    int i = get_global_id(0);
    if (i >= n) return;
    uint w[4];
    philox(seed, first + (ulong)i, w);
    float u1 = (float)(w[0] >> 8) * (1.0f / 16777216.0f);
    float v;
    if (normal)
    {
        float u2 = (float)(w[2] >> 8) * (1.0f / 16777216.0f);
        v = a + b * (sqrt(-2.0f * log(1.0f - u1)) * cos(6.2831855f * u2));
    }
    else v = a + (b - a) * u1;
    dst[dst_off + i] = v;
}
#endif
