#include "hetensor/nn/step_gemm.hpp"

#include <algorithm>

#include "hetensor/common/simd.hpp"

namespace hetensor::nn {

namespace {

using std::int64_t;

// 64-byte vectors (GCC/Clang vector extensions): one zmm register with AVX-512, split into
// two ymm (AVX2) or four xmm registers by the compiler elsewhere. `mem` is the same vector at
// any float/double alignment, for loads and stores through pointers (no vector is passed to
// or returned from a function, whose ABI would differ between the clones).
template <typename T>
struct Vec;
template <>
struct Vec<float> {
  typedef float type __attribute__((vector_size(64)));
  typedef float mem __attribute__((vector_size(64), aligned(4), may_alias));
};
template <>
struct Vec<double> {
  typedef double type __attribute__((vector_size(64)));
  typedef double mem __attribute__((vector_size(64), aligned(8), may_alias));
};

constexpr int kRows = 6;  // rows of C per micro-tile: 6 x 2 vector accumulators

// C rows [0, R) x panel columns [0, cols) (cols <= kPanel) (+)= A rows . panel.
template <typename T, int R>
HETENSOR_INLINE void micro_tile(int64_t k, const T* __restrict a, int64_t lda,
                                const T* __restrict panel, int64_t cols, bool accumulate,
                                T* __restrict c, int64_t ldc) {
  using V = typename Vec<T>::type;
  using M = typename Vec<T>::mem;
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

template <typename T>
HETENSOR_INLINE void step_gemm_impl(int64_t m, const T* a, int64_t lda,
                                    const PackedWeights<T>& w, bool accumulate, T* c,
                                    int64_t ldc) {
  constexpr int64_t P = PackedWeights<T>::kPanel;
  const int64_t k = w.k(), n = w.n();
  for (int64_t j0 = 0; j0 < n; j0 += P) {
    const T* panel = w.data() + j0 * k;
    const int64_t cols = std::min(P, n - j0);
    int64_t i = 0;
    for (; i + kRows <= m; i += kRows) {
      micro_tile<T, kRows>(k, a + i * lda, lda, panel, cols, accumulate, c + i * ldc + j0, ldc);
    }
    const T* ai = a + i * lda;
    T* ci = c + i * ldc + j0;
    switch (m - i) {
      case 5:
        micro_tile<T, 5>(k, ai, lda, panel, cols, accumulate, ci, ldc);
        break;
      case 4:
        micro_tile<T, 4>(k, ai, lda, panel, cols, accumulate, ci, ldc);
        break;
      case 3:
        micro_tile<T, 3>(k, ai, lda, panel, cols, accumulate, ci, ldc);
        break;
      case 2:
        micro_tile<T, 2>(k, ai, lda, panel, cols, accumulate, ci, ldc);
        break;
      case 1:
        micro_tile<T, 1>(k, ai, lda, panel, cols, accumulate, ci, ldc);
        break;
      default:
        break;
    }
  }
}

}  // namespace

template <typename T>
PackedWeights<T>::PackedWeights(int64_t k, int64_t n, const T* w, int64_t ldw, bool trans)
    : k_(k), n_(n), data_(static_cast<std::size_t>(k * ((n + kPanel - 1) / kPanel) * kPanel), T(0)) {
  for (int64_t j0 = 0; j0 < n; j0 += kPanel) {
    T* panel = data_.data() + j0 * k;
    const int64_t cols = std::min(kPanel, n - j0);
    for (int64_t kk = 0; kk < k; ++kk) {
      T* row = panel + kk * kPanel;
      for (int64_t j = 0; j < cols; ++j) {
        row[j] = trans ? w[(j0 + j) * ldw + kk] : w[kk * ldw + j0 + j];
      }
    }
  }
}

template class PackedWeights<float>;
template class PackedWeights<double>;

HETENSOR_CLONES void step_gemm(int64_t m, const float* a, int64_t lda,
                               const PackedWeights<float>& w, bool accumulate, float* c,
                               int64_t ldc) {
  step_gemm_impl(m, a, lda, w, accumulate, c, ldc);
}

HETENSOR_CLONES void step_gemm(int64_t m, const double* a, int64_t lda,
                               const PackedWeights<double>& w, bool accumulate, double* c,
                               int64_t ldc) {
  step_gemm_impl(m, a, lda, w, accumulate, c, ldc);
}

}  // namespace hetensor::nn
