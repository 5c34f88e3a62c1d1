#pragma once
// The one place that names OpenBLAS symbols (scipy-openblas32, prefixed with scipy_).
// Kernels call hetensor::blas::gemm<T>, never cblas directly.

#include <complex>
#include <cstdint>
#include <string>
#include <vector>

namespace hetensor::blas {

// OpenBLAS's build description, e.g. "OpenBLAS 0.3.30 DYNAMIC_ARCH NO_AFFINITY Haswell
// MAX_THREADS=64".
std::string config();

// Number of threads OpenBLAS uses for one call. Kernels change it only through
// ScopedSingleThread: the count is process wide, so a plain get/set around a kernel would race
// with the guards of kernels running on other threads.
int num_threads();

// While alive, OpenBLAS runs every call on the calling thread (its thread count is process
// wide, so this holds for all callers). For kernels that split their GEMMs over their own
// threads: OpenBLAS's threaded level-3 path takes a global lock, so concurrent calls would
// serialize, and its pool threads spin (~0.1 s) after each call, taking cores from the
// caller's threads. Guards nest and may live on several threads at once; the count set
// before the first one is restored when the last one ends.
class ScopedSingleThread {
 public:
  ScopedSingleThread();
  ~ScopedSingleThread();
  ScopedSingleThread(const ScopedSingleThread&) = delete;
  ScopedSingleThread& operator=(const ScopedSingleThread&) = delete;
};

// Row-major C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T. A is M x K after op,
// B is K x N after op, C is M x N; lda/ldb/ldc are row strides (elements). Overloaded for
// float and double so templated kernels call blas::gemm(...). Sizes must fit OpenBLAS's
// 32-bit integers (checked: throws std::length_error).
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
          double* c, std::int64_t ldc);

// Row-major y = alpha * op(A) x + beta * y, A m x n (before op) with row stride lda.
void gemv(bool trans, std::int64_t m, std::int64_t n, float alpha, const float* a, std::int64_t lda,
          const float* x, float beta, float* y);
void gemv(bool trans, std::int64_t m, std::int64_t n, double alpha, const double* a,
          std::int64_t lda, const double* x, double beta, double* y);

// Complex row-major GEMM (op = transpose without conjugation, as above).
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          std::complex<float> alpha, const std::complex<float>* a, std::int64_t lda,
          const std::complex<float>* b, std::int64_t ldb, std::complex<float> beta,
          std::complex<float>* c, std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          std::complex<double> alpha, const std::complex<double>* a, std::int64_t lda,
          const std::complex<double>* b, std::int64_t ldb, std::complex<double> beta,
          std::complex<double>* c, std::int64_t ldc);

// Thin SVD of a column-major m x n complex matrix (LAPACK ?gesdd): a = U diag(s) Vh with U
// m x k (ldu = m), Vh k x n (ldvt = k), k = min(m, n), s descending; a is destroyed. With
// vectors = false (jobz='N') only s is computed (u and vh may be null), several times cheaper.
// Holds its workspace, so one object per thread serves many same-sized matrices without
// allocating. Throws std::runtime_error when LAPACK reports failure.
template <typename R>
class ComplexSvd {
 public:
  ComplexSvd(std::int64_t m, std::int64_t n, bool vectors = true);
  void operator()(std::complex<R>* a, R* s, std::complex<R>* u, std::complex<R>* vh);

 private:
  std::int64_t m_, n_;
  bool vectors_;
  std::vector<std::complex<R>> work_;
  std::vector<R> rwork_;
  std::vector<int> iwork_;
};

// In-place inverse of a column-major n x n complex matrix by LU with partial pivoting (LAPACK
// ?getrf + ?getri). Returns false, leaving a overwritten, when a pivot is exactly zero.
// Holds its workspace like ComplexSvd.
template <typename R>
class ComplexInverse {
 public:
  explicit ComplexInverse(std::int64_t n);
  bool operator()(std::complex<R>* a);

 private:
  std::int64_t n_;
  std::vector<int> ipiv_;
  std::vector<std::complex<R>> work_;
};

// LAPACK (bundled in the same OpenBLAS), row-major, for the small dense problems inside
// iterative kernels.

// Eigen-decomposition of the symmetric n x n matrix A (upper triangle read): on return the
// eigenvalues are in w (ascending) and A's columns hold the orthonormal eigenvectors.
// Throws std::runtime_error if LAPACK reports a failure.
void syev(std::int64_t n, float* a, std::int64_t lda, float* w);
void syev(std::int64_t n, double* a, std::int64_t lda, double* w);

// Overwrites the m x n matrix A (m >= n) with the n orthonormal columns of the Q factor of its
// Householder QR factorization (geqrf + orgqr). Works for rank-deficient A too.
void householder_q(std::int64_t m, std::int64_t n, float* a, std::int64_t lda);
void householder_q(std::int64_t m, std::int64_t n, double* a, std::int64_t lda);

}  // namespace hetensor::blas
