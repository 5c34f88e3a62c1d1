#include "hetensor/common/blas.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <limits>
#include <string>
#include <vector>
#include <stdexcept>

namespace hetensor::blas {

namespace {

blasint checked(std::int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<blasint>::max()) {
    throw std::length_error(std::string("BLAS dimension ") + what + " out of range: " +
                            std::to_string(v));
  }
  return static_cast<blasint>(v);
}

CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

}  // namespace

std::string config() { return std::string(scipy_openblas_get_config()); }

int num_threads() { return scipy_openblas_get_num_threads(); }

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("BLAS thread count must be >= 1");
  scipy_openblas_set_num_threads(n);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
          float beta, float* c, std::int64_t ldc) {
  scipy_cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), checked(m, "m"), checked(n, "n"),
                    checked(k, "k"), alpha, a, checked(lda, "lda"), b, checked(ldb, "ldb"), beta,
                    c, checked(ldc, "ldc"));
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          double alpha, const double* a, std::int64_t lda, const double* b, std::int64_t ldb,
          double beta, double* c, std::int64_t ldc) {
  scipy_cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), checked(m, "m"), checked(n, "n"),
                    checked(k, "k"), alpha, a, checked(lda, "lda"), b, checked(ldb, "ldb"), beta,
                    c, checked(ldc, "ldc"));
}

namespace {

void check_lapack(lapack_int info, const char* routine) {
  if (info != 0) {
    throw std::runtime_error(std::string("LAPACK ") + routine + " failed (info=" +
                             std::to_string(info) + ")");
  }
}

}  // namespace

void syev(std::int64_t n, float* a, std::int64_t lda, float* w) {
  check_lapack(scipy_LAPACKE_ssyevd(LAPACK_ROW_MAJOR, 'V', 'U', checked(n, "n"), a,
                                    checked(lda, "lda"), w),
               "ssyevd");
}

void syev(std::int64_t n, double* a, std::int64_t lda, double* w) {
  check_lapack(scipy_LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', checked(n, "n"), a,
                                    checked(lda, "lda"), w),
               "dsyevd");
}

void householder_q(std::int64_t m, std::int64_t n, float* a, std::int64_t lda) {
  std::vector<float> tau(static_cast<std::size_t>(n));
  check_lapack(scipy_LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, checked(m, "m"), checked(n, "n"), a,
                                    checked(lda, "lda"), tau.data()),
               "sgeqrf");
  check_lapack(scipy_LAPACKE_sorgqr(LAPACK_ROW_MAJOR, checked(m, "m"), checked(n, "n"),
                                    checked(n, "k"), a, checked(lda, "lda"), tau.data()),
               "sorgqr");
}

void householder_q(std::int64_t m, std::int64_t n, double* a, std::int64_t lda) {
  std::vector<double> tau(static_cast<std::size_t>(n));
  check_lapack(scipy_LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, checked(m, "m"), checked(n, "n"), a,
                                    checked(lda, "lda"), tau.data()),
               "dgeqrf");
  check_lapack(scipy_LAPACKE_dorgqr(LAPACK_ROW_MAJOR, checked(m, "m"), checked(n, "n"),
                                    checked(n, "k"), a, checked(lda, "lda"), tau.data()),
               "dorgqr");
}

}  // namespace hetensor::blas
