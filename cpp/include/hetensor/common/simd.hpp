#pragma once
// Function multiversioning for vectorizable kernels: the wheel targets baseline x86-64, so
// GCC compiles a HETENSOR_CLONES function for AVX-512, AVX2 and the baseline and picks one at
// load time (ifunc). Elsewhere the macro is empty. HETENSOR_INLINE forces a helper template
// into such a function, so it is compiled for the clone's instruction set too.
// HETENSOR_IVDEP before a loop says its iterations carry no memory dependence: GCC honours
// __restrict on function parameters but not on local pointers, and a loop over many arrays
// needs more run-time overlap checks than the vectorizer allows (10), so it stays scalar.

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
#if defined(__clang__)
#define HETENSOR_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define HETENSOR_IVDEP _Pragma("GCC ivdep")
#else
#define HETENSOR_IVDEP
#endif
