#pragma once
// HETENSOR_HD marks per-element / per-tile functions shared by CUDA kernels and the CPU build:
// __host__ __device__ under nvcc, nothing otherwise, so CPU tests exercise the same code.

#if defined(__CUDACC__)
#define HETENSOR_HD __host__ __device__
#else
#define HETENSOR_HD
#endif
