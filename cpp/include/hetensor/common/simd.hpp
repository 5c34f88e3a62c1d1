#pragma once
// Function multiversioning for vectorizable kernels: the wheel targets baseline x86-64, so
// GCC compiles a HETENSOR_CLONES function for AVX-512, AVX2 and the baseline and picks one at
// load time (ifunc). Elsewhere the macro is empty. HETENSOR_INLINE forces a helper template
// into such a function, so it is compiled for the clone's instruction set too.

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HETENSOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HETENSOR_CLONES
#endif
#if defined(__GNUC__)
#define HETENSOR_INLINE inline __attribute__((always_inline))
#else
#define HETENSOR_INLINE inline
#endif
