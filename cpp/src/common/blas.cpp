#include "hetensor/common/blas.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace hetensor::blas {

namespace {

blasint checked(std::int64_t v, const char* what) {
  if (v < 0 || v > std::numeric_limits<blasint>::max()) {
    throw std::length_error(std::string("BLAS dimension ") + what +
                            " out of range: " + std::to_string(v));
  }
  return static_cast<blasint>(v);
}

CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

}  // namespace

std::string config() { return std::string(scipy_openblas_get_config()); }

int num_threads() { return scipy_openblas_get_num_threads(); }

namespace {

std::mutex single_thread_mutex;
int single_thread_depth = 0;  // live ScopedSingleThread guards
int single_thread_saved = 1;  // OpenBLAS's thread count before the first guard

}  // namespace

ScopedSingleThread::ScopedSingleThread() {
  const std::lock_guard<std::mutex> lock(single_thread_mutex);
  if (single_thread_depth++ == 0) {
    single_thread_saved = scipy_openblas_get_num_threads();
    if (single_thread_saved != 1) scipy_openblas_set_num_threads(1);
  }
}

ScopedSingleThread::~ScopedSingleThread() {
  const std::lock_guard<std::mutex> lock(single_thread_mutex);
  if (--single_thread_depth == 0 && single_thread_saved != 1) {
    scipy_openblas_set_num_threads(single_thread_saved);
  }
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
          const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
          std::int64_t ldc) {
  scipy_cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), checked(m, "m"), checked(n, "n"),
                    checked(k, "k"), alpha, a, checked(lda, "lda"), b, checked(ldb, "ldb"), beta, c,
                    checked(ldc, "ldc"));
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
          const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
          double* c, std::int64_t ldc) {
  scipy_cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), checked(m, "m"), checked(n, "n"),
                    checked(k, "k"), alpha, a, checked(lda, "lda"), b, checked(ldb, "ldb"), beta, c,
                    checked(ldc, "ldc"));
}

void gemv(bool trans, std::int64_t m, std::int64_t n, float alpha, const float* a, std::int64_t lda,
          const float* x, float beta, float* y) {
  scipy_cblas_sgemv(CblasRowMajor, op(trans), checked(m, "m"), checked(n, "n"), alpha, a,
                    checked(lda, "lda"), x, 1, beta, y, 1);
}

void gemv(bool trans, std::int64_t m, std::int64_t n, double alpha, const double* a,
          std::int64_t lda, const double* x, double beta, double* y) {
  scipy_cblas_dgemv(CblasRowMajor, op(trans), checked(m, "m"), checked(n, "n"), alpha, a,
                    checked(lda, "lda"), x, 1, beta, y, 1);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          std::complex<float> alpha, const std::complex<float>* a, std::int64_t lda,
          const std::complex<float>* b, std::int64_t ldb, std::complex<float> beta,
          std::complex<float>* c, std::int64_t ldc) {
  scipy_cblas_cgemm(CblasRowMajor, op(trans_a), op(trans_b), checked(m, "m"), checked(n, "n"),
                    checked(k, "k"), &alpha, a, checked(lda, "lda"), b, checked(ldb, "ldb"), &beta,
                    c, checked(ldc, "ldc"));
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
          std::complex<double> alpha, const std::complex<double>* a, std::int64_t lda,
          const std::complex<double>* b, std::int64_t ldb, std::complex<double> beta,
          std::complex<double>* c, std::int64_t ldc) {
  scipy_cblas_zgemm(CblasRowMajor, op(trans_a), op(trans_b), checked(m, "m"), checked(n, "n"),
                    checked(k, "k"), &alpha, a, checked(lda, "lda"), b, checked(ldb, "ldb"), &beta,
                    c, checked(ldc, "ldc"));
}

namespace {

// lwork = -1 asks for the workspace size (LAPACK convention), so it is passed unchecked.
lapack_int gesdd(char jobz, std::int64_t m, std::int64_t n, std::complex<float>* a, float* s,
                 std::complex<float>* u, std::complex<float>* vh, std::complex<float>* work,
                 std::int64_t lwork, float* rwork, int* iwork) {
  const lapack_int mi = checked(m, "m"), ni = checked(n, "n"), k = std::min(mi, ni);
  // std::complex and LAPACK's C complex type share their layout (real, imaginary).
  auto c = [](std::complex<float>* p) { return reinterpret_cast<lapack_complex_float*>(p); };
  return scipy_LAPACKE_cgesdd_work(LAPACK_COL_MAJOR, jobz, mi, ni, c(a), mi, s, c(u), mi, c(vh), k,
                                   c(work), static_cast<lapack_int>(lwork), rwork, iwork);
}

lapack_int gesdd(char jobz, std::int64_t m, std::int64_t n, std::complex<double>* a, double* s,
                 std::complex<double>* u, std::complex<double>* vh, std::complex<double>* work,
                 std::int64_t lwork, double* rwork, int* iwork) {
  const lapack_int mi = checked(m, "m"), ni = checked(n, "n"), k = std::min(mi, ni);
  // std::complex and LAPACK's C complex type share their layout (real, imaginary).
  auto c = [](std::complex<double>* p) { return reinterpret_cast<lapack_complex_double*>(p); };
  return scipy_LAPACKE_zgesdd_work(LAPACK_COL_MAJOR, jobz, mi, ni, c(a), mi, s, c(u), mi, c(vh), k,
                                   c(work), static_cast<lapack_int>(lwork), rwork, iwork);
}

void check_lapack(lapack_int info, const char* routine) {
  if (info != 0) {
    throw std::runtime_error(std::string("LAPACK ") + routine +
                             " failed (info=" + std::to_string(info) + ")");
  }
}

}  // namespace

template <typename R>
ComplexSvd<R>::ComplexSvd(std::int64_t m, std::int64_t n, bool vectors)
    : m_(m), n_(n), vectors_(vectors) {
  if (m < 1 || n < 1) throw std::invalid_argument("SVD needs a non-empty matrix");
  const std::int64_t k = std::min(m, n), big = std::max(m, n);
  rwork_.resize(static_cast<std::size_t>(
      std::max<std::int64_t>(k * std::max<std::int64_t>(5 * k + 7, 2 * big + 2 * k + 1), 1)));
  iwork_.resize(static_cast<std::size_t>(8 * k));
  std::complex<R> query;
  std::vector<std::complex<R>> dummy(static_cast<std::size_t>(m * n + m * k + k * n));
  std::vector<R> sdummy(static_cast<std::size_t>(k));
  std::complex<R>* a = dummy.data();
  const lapack_int info = gesdd(vectors ? 'S' : 'N', m, n, a, sdummy.data(), a + m * n,
                                a + m * n + m * k, &query, -1, rwork_.data(), iwork_.data());
  if (info != 0) throw std::runtime_error("LAPACK gesdd workspace query failed");
  work_.resize(static_cast<std::size_t>(std::max<R>(query.real(), R(1))));
}

template <typename R>
void ComplexSvd<R>::operator()(std::complex<R>* a, R* s, std::complex<R>* u, std::complex<R>* vh) {
  // jobz='N' never touches u/vh, but LAPACKE wants valid pointers for its argument checks.
  std::complex<R> unused;
  const lapack_int info =
      gesdd(vectors_ ? 'S' : 'N', m_, n_, a, s, vectors_ ? u : &unused, vectors_ ? vh : &unused,
            work_.data(), static_cast<std::int64_t>(work_.size()), rwork_.data(), iwork_.data());
  if (info != 0) {
    throw std::runtime_error("LAPACK gesdd failed (info=" + std::to_string(info) +
                             "): the SVD did not converge");
  }
}

template class ComplexSvd<float>;
template class ComplexSvd<double>;

namespace {

lapack_int getrf(std::int64_t n, std::complex<float>* a, int* ipiv) {
  const lapack_int ni = checked(n, "n");
  return scipy_LAPACKE_cgetrf_work(LAPACK_COL_MAJOR, ni, ni,
                                   reinterpret_cast<lapack_complex_float*>(a), ni, ipiv);
}

lapack_int getrf(std::int64_t n, std::complex<double>* a, int* ipiv) {
  const lapack_int ni = checked(n, "n");
  return scipy_LAPACKE_zgetrf_work(LAPACK_COL_MAJOR, ni, ni,
                                   reinterpret_cast<lapack_complex_double*>(a), ni, ipiv);
}

// lwork = -1 asks for the workspace size.
lapack_int getri(std::int64_t n, std::complex<float>* a, const int* ipiv, std::complex<float>* work,
                 std::int64_t lwork) {
  const lapack_int ni = checked(n, "n");
  return scipy_LAPACKE_cgetri_work(LAPACK_COL_MAJOR, ni, reinterpret_cast<lapack_complex_float*>(a),
                                   ni, ipiv, reinterpret_cast<lapack_complex_float*>(work),
                                   static_cast<lapack_int>(lwork));
}

lapack_int getri(std::int64_t n, std::complex<double>* a, const int* ipiv,
                 std::complex<double>* work, std::int64_t lwork) {
  const lapack_int ni = checked(n, "n");
  return scipy_LAPACKE_zgetri_work(
      LAPACK_COL_MAJOR, ni, reinterpret_cast<lapack_complex_double*>(a), ni, ipiv,
      reinterpret_cast<lapack_complex_double*>(work), static_cast<lapack_int>(lwork));
}

}  // namespace

template <typename R>
ComplexInverse<R>::ComplexInverse(std::int64_t n) : n_(n) {
  if (n < 1) throw std::invalid_argument("inverse needs a non-empty matrix");
  ipiv_.resize(static_cast<std::size_t>(n));
  std::complex<R> query, dummy;
  const lapack_int info = getri(n, &dummy, ipiv_.data(), &query, -1);
  if (info != 0) throw std::runtime_error("LAPACK getri workspace query failed");
  work_.resize(static_cast<std::size_t>(std::max<R>(query.real(), static_cast<R>(n))));
}

template <typename R>
bool ComplexInverse<R>::operator()(std::complex<R>* a) {
  const lapack_int info = getrf(n_, a, ipiv_.data());
  if (info > 0) return false;  // exactly singular U
  check_lapack(info, "getrf");
  check_lapack(getri(n_, a, ipiv_.data(), work_.data(), static_cast<std::int64_t>(work_.size())),
               "getri");
  return true;
}

template class ComplexInverse<float>;
template class ComplexInverse<double>;
void syev(std::int64_t n, float* a, std::int64_t lda, float* w) {
  check_lapack(
      scipy_LAPACKE_ssyevd(LAPACK_ROW_MAJOR, 'V', 'U', checked(n, "n"), a, checked(lda, "lda"), w),
      "ssyevd");
}

void syev(std::int64_t n, double* a, std::int64_t lda, double* w) {
  check_lapack(
      scipy_LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', checked(n, "n"), a, checked(lda, "lda"), w),
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
