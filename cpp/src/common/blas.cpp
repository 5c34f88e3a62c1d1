#include "hetensor/common/blas.hpp"

#include <cblas.h>

#include <limits>
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

}  // namespace hetensor::blas
