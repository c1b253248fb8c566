// Shared by every kernel file, after the dialect prelude. REAL is float or double (-DREAL=...); RWG is the
// work-group size of row reductions (a power of two).
typedef REAL real;

#define MAX_DIMS 8

// Up to three operands walking one shape (sizes merged on the host where the layout allows); strides and
// offsets in elements. Passed by value, so strided views need no extra buffer.
typedef struct
{
    int rank;
    int size[MAX_DIMS];
    int stride[3][MAX_DIMS];
    int offset[3];
} layout_t;

// Buffer offsets of element i (row-major over the shape) for the first `count` operands.
inline void layout_offsets(const layout_t* l, int i, int count, int* off)
{
    for (int k = 0; k < count; k++) off[k] = l->offset[k];
    for (int d = l->rank - 1; d >= 0; d--)
    {
        int idx = i % l->size[d];
        i /= l->size[d];
        for (int k = 0; k < count; k++) off[k] += idx * l->stride[k][d];
    }
}

// Max that propagates NaN, as .NET's Math.Max does.
inline real max_nan(real a, real b) { return isnan(a) || isnan(b) ? a + b : (a > b ? a : b); }
inline real min_nan(real a, real b) { return isnan(a) || isnan(b) ? a + b : (a < b ? a : b); }

// Tree sum over the work-group in a fixed order; every work-item gets the total.
inline real group_sum(LOCAL_PTR real* part, real v)
{
    int t = get_local_id(0);
    part[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = RWG / 2; w > 0; w >>= 1)
    {
        if (t < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    real r = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline real group_max(LOCAL_PTR real* part, real v)
{
    int t = get_local_id(0);
    part[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = RWG / 2; w > 0; w >>= 1)
    {
        if (t < w) part[t] = max_nan(part[t], part[t + w]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    real r = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
