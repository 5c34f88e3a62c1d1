#pragma once
// The small product of each recurrent step, C (m x n) = A (m x k) op(W) (+ C), with the
// weight matrix packed once per call instead of once per step (OpenBLAS repacks both operands
// on every call, which for m = a few batch rows costs as much as the arithmetic). Runs on the
// calling thread; the recurrent kernels call it from their own threads.

#include <cstdint>
#include <vector>

#include "hetensor/common/simd.hpp"

namespace hetensor::nn {

// op(W) (k x n) in column panels of panel() columns, each k x panel() row-major, the last
// panel zero-padded. A panel row is two vectors of the instruction set active when packing
// (simd::active_isa(): 64-byte vectors for AVX-512, 32 for AVX2, 16 for the baseline), and
// step_gemm runs that set's kernel, so packing and kernel always agree.
template <typename T>
class PackedWeights {
 public:
  // op(W) = W^T (trans) or W, W row-major with row stride ldw.
  PackedWeights(std::int64_t k, std::int64_t n, const T* w, std::int64_t ldw, bool trans);

  std::int64_t k() const { return k_; }
  std::int64_t n() const { return n_; }
  simd::Isa isa() const { return isa_; }
  std::int64_t panel() const { return panel_; }
  const T* data() const { return data_.data(); }

 private:
  std::int64_t k_, n_;
  simd::Isa isa_;
  std::int64_t panel_;
  std::vector<T> data_;
};

// C = A op(W) (accumulate = false) or C += A op(W); A row stride lda, C row stride ldc.
void step_gemm(std::int64_t m, const float* a, std::int64_t lda, const PackedWeights<float>& w,
               bool accumulate, float* c, std::int64_t ldc);
void step_gemm(std::int64_t m, const double* a, std::int64_t lda, const PackedWeights<double>& w,
               bool accumulate, double* c, std::int64_t ldc);

}  // namespace hetensor::nn
