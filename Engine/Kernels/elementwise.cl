// Unary and binary ops over strided views. The op is a kernel argument: one kernel per family keeps the
// program small, and the switch is uniform across a launch. Op numbers follow UnaryOp / BinaryOp.

inline real apply_unary(int op, real x, real a, real b)
{
    switch (op)
    {
        case 0: return -x;
        case 1: return exp(x);
        case 2: return log(x);
        case 3: return sqrt(x);
        case 4: return fabs(x);
        case 5: return x > (real)0 ? x : isnan(x) ? x : (real)0;
        case 6: return (real)1 / ((real)1 + exp(-x));
        case 7: return tanh(x);
        case 8: return x / ((real)1 + exp(-x));
        case 9: return isnan(x) ? x : x < a ? a : x > b ? b : x;
        case 10: return pow(x, a);
        case 11: return x + a;
        case 12: return x * a;
        case 13: return x > (real)0 ? (real)1 : x < (real)0 ? (real)-1 : isnan(x) ? x : (real)0;
        case 14: return x > (real)0 ? (real)1 : (real)0;
        case 15: return x >= a && x <= b ? (real)1 : (real)0;
        default:
        {
            real s = (real)1 / ((real)1 + exp(-x));
            return s * ((real)1 + x * ((real)1 - s));
        }
    }
}

inline real apply_binary(int op, real a, real b)
{
    switch (op)
    {
        case 0: return a + b;
        case 1: return a - b;
        case 2: return a * b;
        case 3: return a / b;
        case 4: return pow(a, b);
        case 5: return max_nan(a, b);
        default: return min_nan(a, b);
    }
}

// Operand 0 = x, 1 = y.
__kernel void unary(int op, int n, layout_t l, __global const real* x, __global real* y, real a, real b)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int off[2];
    layout_offsets(&l, i, 2, off);
    y[off[1]] = apply_unary(op, x[off[0]], a, b);
}

// Operands 0 = a, 1 = b (both already broadcast with stride 0), 2 = y.
__kernel void binary(int op, int n, layout_t l, __global const real* a, __global const real* b, __global real* y)
{
    int i = get_global_id(0);
    if (i >= n) return;
    int off[3];
    layout_offsets(&l, i, 3, off);
    y[off[2]] = apply_binary(op, a[off[0]], b[off[1]]);
}
