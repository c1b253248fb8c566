// OpenCL dialect of the kernel sources: OpenCL C is the language they are written in, so this only
// switches on what the device offers and turns off contraction so a*b+c rounds as the CPU backend does.
#if defined(HAS_FP64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF
#define LOCAL_PTR __local
#define MULHI(a, b) mul_hi((uint)(a), (uint)(b))
// Round-to-nearest double ops for the random maps (contraction is already off here).
#define DMUL_RN(a, b) ((a) * (b))
#define DADD_RN(a, b) ((a) + (b))
