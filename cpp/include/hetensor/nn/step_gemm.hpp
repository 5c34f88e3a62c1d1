#pragma once
// The small product of each recurrent step, C (m x n) = A (m x k) op(W) (+ C), with the
// weight matrix packed once per call instead of once per step (OpenBLAS repacks both operands
// on every call, which for m = a few batch rows costs as much as the arithmetic). Runs on the
// calling thread; the recurrent kernels call it from their own threads.

#include <cstdint>
#include <vector>

namespace hetensor::nn {

// op(W) (k x n) in column panels of kPanel columns, each k x kPanel row-major, the last
// panel zero-padded: a 64-byte vector pair per row of a panel.
template <typename T>
class PackedWeights {
 public:
  static constexpr std::int64_t kPanel = 128 / static_cast<std::int64_t>(sizeof(T));

  // op(W) = W^T (trans) or W, W row-major with row stride ldw.
  PackedWeights(std::int64_t k, std::int64_t n, const T* w, std::int64_t ldw, bool trans);

  std::int64_t k() const { return k_; }
  std::int64_t n() const { return n_; }
  const T* data() const { return data_.data(); }

 private:
  std::int64_t k_, n_;
  std::vector<T> data_;
};

// C = A op(W) (accumulate = false) or C += A op(W); A row stride lda, C row stride ldc.
void step_gemm(std::int64_t m, const float* a, std::int64_t lda, const PackedWeights<float>& w,
               bool accumulate, float* c, std::int64_t ldc);
void step_gemm(std::int64_t m, const double* a, std::int64_t lda,
               const PackedWeights<double>& w, bool accumulate, double* c, std::int64_t ldc);

}  // namespace hetensor::nn
