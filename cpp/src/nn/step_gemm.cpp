#include "hetensor/nn/step_gemm.hpp"

#include <algorithm>

#include "hetensor/common/simd.hpp"

namespace hetensor::nn {

namespace {

using std::int64_t;

// Vectors of kBytes bytes (GCC/Clang vector extensions), compiled into one register of the
// kernel's instruction set: 64 bytes in the AVX-512 kernel, 32 in the AVX2 one, 16 in the
// baseline. `mem` is the same vector at any float/double alignment, for loads and stores
// through pointers (no vector is passed to or returned from a function, whose ABI would differ
// between the instruction sets).
template <typename T, int kBytes>
struct Vec {
  typedef T type __attribute__((vector_size(kBytes)));
  typedef T mem __attribute__((vector_size(kBytes), aligned(sizeof(T)), may_alias));
};

constexpr int vector_bytes(simd::Isa isa) {
  return isa == simd::Isa::kAvx512 ? 64 : isa == simd::Isa::kAvx2 ? 32 : 16;
}

// The k range is walked in chunks whose slice of a panel (kChunk rows of two vectors) stays in
// L1 while every row tile of A runs over it; C accumulates across the chunks.
constexpr int64_t kChunkBytes = 16 * 1024;

// C rows [0, R) x panel columns [0, cols) (cols <= the panel width) (+)= A rows . panel.
// 2R vector accumulators: 12 with R = 6, of the 16 (AVX2) or 32 (AVX-512) registers.
template <typename T, int kBytes, int R>
HETENSOR_INLINE void micro_tile(int64_t k, const T* __restrict a, int64_t lda,
                                const T* __restrict panel, int64_t cols, bool accumulate,
                                T* __restrict c, int64_t ldc) {
  using V = typename Vec<T, kBytes>::type;
  using M = typename Vec<T, kBytes>::mem;
  constexpr int64_t kLanes = static_cast<int64_t>(sizeof(V) / sizeof(T));
  V acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = V{};
  for (int64_t kk = 0; kk < k; ++kk) {
    const V b0 = *reinterpret_cast<const M*>(panel + kk * 2 * kLanes);
    const V b1 = *reinterpret_cast<const M*>(panel + kk * 2 * kLanes + kLanes);
    for (int r = 0; r < R; ++r) {
      const T av = a[r * lda + kk];
      acc[r][0] += av * b0;
      acc[r][1] += av * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    T* cr = c + r * ldc;
    if (cols == 2 * kLanes) {
      M* c0 = reinterpret_cast<M*>(cr);
      M* c1 = reinterpret_cast<M*>(cr + kLanes);
      if (accumulate) {
        *c0 = *c0 + acc[r][0];
        *c1 = *c1 + acc[r][1];
      } else {
        *c0 = acc[r][0];
        *c1 = acc[r][1];
      }
    } else {
      T tmp[2 * kLanes];
      *reinterpret_cast<M*>(tmp) = acc[r][0];
      *reinterpret_cast<M*>(tmp + kLanes) = acc[r][1];
      for (int64_t j = 0; j < cols; ++j) cr[j] = accumulate ? cr[j] + tmp[j] : tmp[j];
    }
  }
}

// A tile of `rows` rows, 1 <= rows <= R.
template <typename T, int kBytes, int R>
HETENSOR_INLINE void edge_tile(int64_t rows, int64_t k, const T* a, int64_t lda, const T* panel,
                               int64_t cols, bool accumulate, T* c, int64_t ldc) {
  if constexpr (R >= 1) {
    if (rows == R) {
      micro_tile<T, kBytes, R>(k, a, lda, panel, cols, accumulate, c, ldc);
    } else {
      edge_tile<T, kBytes, R - 1>(rows, k, a, lda, panel, cols, accumulate, c, ldc);
    }
  }
}

// C rows [0, m) over every panel of W.
template <typename T, int kBytes, int R>
HETENSOR_INLINE void row_block(int64_t m, const T* a, int64_t lda, const PackedWeights<T>& w,
                               bool accumulate, T* c, int64_t ldc) {
  constexpr int64_t P = 2 * kBytes / static_cast<int64_t>(sizeof(T));  // == w.panel()
  constexpr int64_t kChunk = kChunkBytes / (2 * kBytes);
  const int64_t k = w.k(), n = w.n();
  // Row tiles of R rows; a thin remainder (<= R/2 rows) is merged with the last full tile and
  // the two split evenly: 32 rows run as 4 x 6 + 4 + 4, not 5 x 6 + 2 (a 2-row tile loads as
  // many panel vectors as a 6-row one for a third of the work).
  const int64_t rem = m % R;
  const bool merge = rem > 0 && 2 * rem <= R && m > R;
  const int64_t full_rows = (m / R - (merge ? 1 : 0)) * R;
  const int64_t tail = m - full_rows, tail0 = (tail + 1) / 2;
  for (int64_t j0 = 0; j0 < n; j0 += P) {
    const int64_t cols = std::min(P, n - j0);
    for (int64_t k0 = 0; k0 < k; k0 += kChunk) {
      const int64_t kc = std::min(kChunk, k - k0);
      const T* panel = w.data() + j0 * k + k0 * P;
      const T* ak = a + k0;
      const bool acc = accumulate || k0 > 0;
      T* cj = c + j0;
      for (int64_t i = 0; i < full_rows; i += R) {
        micro_tile<T, kBytes, R>(kc, ak + i * lda, lda, panel, cols, acc, cj + i * ldc, ldc);
      }
      if (merge) {
        const int64_t i = full_rows;
        edge_tile<T, kBytes, R>(tail0, kc, ak + i * lda, lda, panel, cols, acc, cj + i * ldc, ldc);
        edge_tile<T, kBytes, R>(tail - tail0, kc, ak + (i + tail0) * lda, lda, panel, cols, acc,
                                cj + (i + tail0) * ldc, ldc);
      } else if (tail > 0) {
        edge_tile<T, kBytes, R>(tail, kc, ak + full_rows * lda, lda, panel, cols, acc,
                                cj + full_rows * ldc, ldc);
      }
    }
  }
}

// Loop order. A recurrent step (A: a few batch rows, W: the large weight matrix) runs all its
// rows panel by panel: W is streamed once, A re-read from L2 for each panel. When A is the
// large operand and W small (the dense power-iteration product: n rows of n against an n x p
// block), rows go in blocks of ~kABytes / 2, each over all panels: A is read from memory once
// instead of once per panel (two panels for p = 16 doubles with AVX2), W from L2 per block.
constexpr int64_t kABytes = 256 * 1024;

template <typename T, int kBytes, int R>
HETENSOR_INLINE void step_gemm_impl(int64_t m, const T* a, int64_t lda, const PackedWeights<T>& w,
                                    bool accumulate, T* c, int64_t ldc) {
  const int64_t row_bytes = std::max<int64_t>(1, w.k()) * static_cast<int64_t>(sizeof(T));
  const int64_t w_bytes = row_bytes * (w.n() + w.panel() - 1) / w.panel() * w.panel();
  const bool blocked = m * row_bytes > kABytes && w_bytes <= kABytes;
  const int64_t block = blocked ? std::max<int64_t>(R, kABytes / 2 / row_bytes / R * R) : m;
  for (int64_t i0 = 0; i0 < m; i0 += block) {
    row_block<T, kBytes, R>(std::min(block, m - i0), a + i0 * lda, lda, w, accumulate, c + i0 * ldc,
                            ldc);
  }
}

// One function per instruction set; each compiles step_gemm_impl's inlined tiles for its own
// vector width (6 x 2 accumulators of 64 or 32 bytes; 4 x 2 of 16 bytes for the baseline's
// 16 registers, which also hold the panel vectors and products without FMA).
#if HETENSOR_X86_DISPATCH
template <typename T>
HETENSOR_TARGET_AVX512 void gemm_avx512(int64_t m, const T* a, int64_t lda,
                                        const PackedWeights<T>& w, bool accumulate, T* c,
                                        int64_t ldc) {
  step_gemm_impl<T, vector_bytes(simd::Isa::kAvx512), 6>(m, a, lda, w, accumulate, c, ldc);
}

template <typename T>
HETENSOR_TARGET_AVX2 void gemm_avx2(int64_t m, const T* a, int64_t lda, const PackedWeights<T>& w,
                                    bool accumulate, T* c, int64_t ldc) {
  step_gemm_impl<T, vector_bytes(simd::Isa::kAvx2), 6>(m, a, lda, w, accumulate, c, ldc);
}
#endif

template <typename T>
void gemm_baseline(int64_t m, const T* a, int64_t lda, const PackedWeights<T>& w, bool accumulate,
                   T* c, int64_t ldc) {
  step_gemm_impl<T, vector_bytes(simd::Isa::kBaseline), 4>(m, a, lda, w, accumulate, c, ldc);
}

template <typename T>
void dispatch(int64_t m, const T* a, int64_t lda, const PackedWeights<T>& w, bool accumulate, T* c,
              int64_t ldc) {
  switch (w.isa()) {
#if HETENSOR_X86_DISPATCH
    case simd::Isa::kAvx512:
      gemm_avx512(m, a, lda, w, accumulate, c, ldc);
      return;
    case simd::Isa::kAvx2:
      gemm_avx2(m, a, lda, w, accumulate, c, ldc);
      return;
#endif
    default:
      gemm_baseline(m, a, lda, w, accumulate, c, ldc);
  }
}

}  // namespace

template <typename T>
PackedWeights<T>::PackedWeights(int64_t k, int64_t n, const T* w, int64_t ldw, bool trans)
    : k_(k),
      n_(n),
      isa_(simd::active_isa()),
      panel_(2 * vector_bytes(isa_) / static_cast<int64_t>(sizeof(T))),
      data_(static_cast<std::size_t>(k * ((n + panel_ - 1) / panel_) * panel_), T(0)) {
  for (int64_t j0 = 0; j0 < n; j0 += panel_) {
    T* panel = data_.data() + j0 * k;
    const int64_t cols = std::min(panel_, n - j0);
    for (int64_t kk = 0; kk < k; ++kk) {
      T* row = panel + kk * panel_;
      for (int64_t j = 0; j < cols; ++j) {
        row[j] = trans ? w[(j0 + j) * ldw + kk] : w[kk * ldw + j0 + j];
      }
    }
  }
}

template class PackedWeights<float>;
template class PackedWeights<double>;

void step_gemm(int64_t m, const float* a, int64_t lda, const PackedWeights<float>& w,
               bool accumulate, float* c, int64_t ldc) {
  dispatch(m, a, lda, w, accumulate, c, ldc);
}

void step_gemm(int64_t m, const double* a, int64_t lda, const PackedWeights<double>& w,
               bool accumulate, double* c, int64_t ldc) {
  dispatch(m, a, lda, w, accumulate, c, ldc);
}

}  // namespace hetensor::nn
