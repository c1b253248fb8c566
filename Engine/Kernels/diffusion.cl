// The fused DPL reverse step (METHODS §3), element-wise over contiguous [n, D]:
// p̂0 = (p_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t; p_{t−1} = c0·p̂0 + c1·p_t (+ σ_t·z). Mirror of Engine/Cpu/DiffusionKernels.cs.
__kernel void diffusion_step(int count, __global const real* pt, int p_off, __global const real* eps, int e_off,
    int has_noise, __global const real* z, int z_off, __global real* y, int y_off,
    real sqrt_one_minus, real inv_sqrt_alpha_bar, real c0, real c1, real sigma)
{
    int i = get_global_id(0);
    if (i >= count) return;
    real x = pt[p_off + i];
    real p0_hat = (x - sqrt_one_minus * eps[e_off + i]) * inv_sqrt_alpha_bar;
    real next = c0 * p0_hat + c1 * x;
    y[y_off + i] = has_noise ? next + sigma * z[z_off + i] : next;
}

// The step is affine in (p_t, ε̂): both gradients are dy times a constant.
__kernel void diffusion_step_backward(int count, __global const real* dy, int dy_off, __global real* dpt, int p_off,
    __global real* deps, int e_off, real k_pt, real k_eps)
{
    int i = get_global_id(0);
    if (i >= count) return;
    dpt[p_off + i] = k_pt * dy[dy_off + i];
    deps[e_off + i] = k_eps * dy[dy_off + i];
}
