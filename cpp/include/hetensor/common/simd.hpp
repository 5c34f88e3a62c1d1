#pragma once
// Instruction-set dispatch for vectorizable kernels. The wheel targets baseline x86-64, so the
// fast paths are compiled for wider instruction sets and picked at run time, two ways:
//
// - HETENSOR_CLONES: GCC compiles the same source for AVX-512, x86-64-v3 (AVX2 + FMA) and the
//   baseline and picks one at load time (ifunc). Right for loops the compiler vectorizes by
//   itself. The AVX2 clone names x86-64-v3, not "avx2": that target enables AVX2 without FMA,
//   and an AVX2-only CPU (AMD Zen 3 here) then ran every multiply-add as two instructions.
// - HETENSOR_TARGET_AVX512 / HETENSOR_TARGET_AVX2 on functions of their own, chosen by
//   simd::active_isa(): for kernels whose register tiling depends on the vector width (the
//   step GEMM's micro-tile holds 12 vector accumulators: 6 rows x 2 vectors of the machine's
//   width; 64-byte vectors on an AVX2 machine would need 24 and spill).
//
// Elsewhere (Clang, other architectures) the macros are empty and the baseline path runs.
// HETENSOR_INLINE forces a helper template into such a function, so it is compiled for the
// caller's instruction set too. HETENSOR_IVDEP before a loop says its iterations carry no
// memory dependence: GCC honours __restrict on function parameters but not on local pointers,
// and a loop over many arrays needs more run-time overlap checks than the vectorizer allows
// (10), so it stays scalar.

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define HETENSOR_X86_DISPATCH 1
#define HETENSOR_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#define HETENSOR_TARGET_AVX512 __attribute__((target("avx512f")))
#define HETENSOR_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#else
#define HETENSOR_X86_DISPATCH 0
#define HETENSOR_CLONES
#define HETENSOR_TARGET_AVX512
#define HETENSOR_TARGET_AVX2
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

namespace hetensor::simd {

// Instruction sets of the explicitly dispatched kernels, narrowest first.
enum class Isa { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// The widest set this CPU (and OS) supports: AVX-512F, else AVX2 with FMA, else the baseline.
Isa detected_isa();

// detected_isa(), capped by set_isa_cap: what newly packed kernels use.
Isa active_isa();

// Caps active_isa() (tests run the narrower paths on a wider machine); kAvx512 lifts the cap.
void set_isa_cap(Isa cap);

// "avx512", "avx2" or "baseline".
const char* isa_name(Isa isa);

}  // namespace hetensor::simd
