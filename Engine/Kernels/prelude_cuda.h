// CUDA dialect of the OpenCL kernel sources, in the manner of CLBlast's opencl_to_cuda.h: a handful of
// macros and __device__ functions make the restricted OpenCL C the kernels are written in valid CUDA C++.
#define CUDA 1

#ifndef __CUDACC_RTC__
// Outside NVRTC (the clang syntax check in the tests, run with -nocudainc) the CUDA headers are absent:
// declare the few attributes, builtins and math functions the kernels use. NVRTC provides all of these.
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
#include "__clang_cuda_builtin_vars.h"
#define __syncthreads() __nvvm_bar_sync(0)
#define __umulhi(a, b) __nvvm_mulhi_ui(a, b)
#define __dmul_rn(a, b) __nvvm_mul_rn_d(a, b)
#define __dadd_rn(a, b) __nvvm_add_rn_d(a, b)
#define CUDA_MATH1(name) __device__ float name(float); __device__ double name(double);
CUDA_MATH1(exp) CUDA_MATH1(log) CUDA_MATH1(sqrt) CUDA_MATH1(fabs) CUDA_MATH1(tanh) CUDA_MATH1(cos) CUDA_MATH1(floor) CUDA_MATH1(ceil)
__device__ float pow(float, float); __device__ double pow(double, double);
__device__ float fma(float, float, float); __device__ double fma(double, double, double);
__device__ bool isnan(float); __device__ bool isnan(double);
__device__ int min(int, int); __device__ int max(int, int);
#define INFINITY __builtin_huge_valf()
#endif

#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

typedef unsigned int uint;
typedef unsigned long long ulong;

__device__ inline int get_local_id(int d) { return d == 0 ? threadIdx.x : d == 1 ? threadIdx.y : threadIdx.z; }
__device__ inline int get_group_id(int d) { return d == 0 ? blockIdx.x : d == 1 ? blockIdx.y : blockIdx.z; }
__device__ inline int get_local_size(int d) { return d == 0 ? blockDim.x : d == 1 ? blockDim.y : blockDim.z; }
__device__ inline int get_num_groups(int d) { return d == 0 ? gridDim.x : d == 1 ? gridDim.y : gridDim.z; }
__device__ inline int get_global_id(int d) { return get_group_id(d) * get_local_size(d) + get_local_id(d); }

#define __kernel extern "C" __global__
#define __global
#define __local __shared__
#define LOCAL_PTR
#define inline __device__ inline
#define barrier(flags) __syncthreads()
#define MULHI(a, b) __umulhi((uint)(a), (uint)(b))
#define DMUL_RN(a, b) __dmul_rn(a, b)
#define DADD_RN(a, b) __dadd_rn(a, b)
