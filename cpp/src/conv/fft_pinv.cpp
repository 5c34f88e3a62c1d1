#include "hetensor/conv/fft_pinv.hpp"

#include <algorithm>
#include <vector>

#include "hetensor/common/blas.hpp"
#include "threading.hpp"

namespace hetensor::conv {

namespace {

using i64 = std::int64_t;

// Frequencies per work item: consecutive frequencies share cache lines of the strided spectra.
constexpr i64 kFreqBlock = 16;

// dst (rows x batch) row-major <- column f of src (batch, rows, F).
template <typename C>
void gather(const C* src, i64 rows, i64 F, i64 batch, i64 f, C* dst) {
  for (i64 j = 0; j < rows; ++j) {
    for (i64 b = 0; b < batch; ++b) dst[j * batch + b] = src[(b * rows + j) * F + f];
  }
}

template <typename C>
void scatter(const C* src, i64 rows, i64 F, i64 batch, i64 f, C* dst) {
  for (i64 j = 0; j < rows; ++j) {
    for (i64 b = 0; b < batch; ++b) dst[(b * rows + j) * F + f] = src[j * batch + b];
  }
}

}  // namespace

template <typename R>
void transfer_svd(const std::complex<R>* khat, i64 m, i64 n, i64 F, std::complex<R>* uh, R* s,
                  std::complex<R>* v, int threads) {
  using C = std::complex<R>;
  const i64 k = std::min(m, n);
  detail::run_items((F + kFreqBlock - 1) / kFreqBlock, threads, [&](i64 begin, i64 end) {
    blas::ComplexSvd<R> svd(m, n);
    std::vector<C> a(static_cast<std::size_t>(m * n));
    for (i64 f = begin * kFreqBlock; f < std::min(F, end * kFreqBlock); ++f) {
      // A_f column-major: a[j + i*m] = conj(khat[j][i][f]).
      for (i64 i = 0; i < n; ++i) {
        for (i64 j = 0; j < m; ++j) a[static_cast<std::size_t>(j + i * m)] = std::conj(khat[(j * n + i) * F + f]);
      }
      C* uf = uh + f * k * m;  // U column-major (m x k) ...
      C* vf = v + f * n * k;   // Vh column-major (k x n) ...
      svd(a.data(), s + f * k, uf, vf);
      // ... and conj() of those buffers, read row-major, are U^H (k x m) and V (n x k).
      for (i64 e = 0; e < k * m; ++e) uf[e] = std::conj(uf[e]);
      for (i64 e = 0; e < n * k; ++e) vf[e] = std::conj(vf[e]);
    }
  });
}

template <typename R>
void apply_pinv(const std::complex<R>* uh, const R* sinv, const std::complex<R>* v, i64 m, i64 n,
                i64 F, const std::complex<R>* y, i64 batch, std::complex<R>* x, int threads) {
  using C = std::complex<R>;
  const i64 k = std::min(m, n);
  detail::run_items((F + kFreqBlock - 1) / kFreqBlock, threads, [&](i64 begin, i64 end) {
    std::vector<C> yf(static_cast<std::size_t>(m * batch)), t(static_cast<std::size_t>(k * batch));
    std::vector<C> xf(static_cast<std::size_t>(n * batch));
    for (i64 f = begin * kFreqBlock; f < std::min(F, end * kFreqBlock); ++f) {
      gather(y, m, F, batch, f, yf.data());
      blas::gemm(false, false, k, batch, m, C(1), uh + f * k * m, m, yf.data(), batch, C(0),
                 t.data(), batch);
      for (i64 i = 0; i < k; ++i) {
        const R si = sinv[f * k + i];
        for (i64 b = 0; b < batch; ++b) t[static_cast<std::size_t>(i * batch + b)] *= si;
      }
      blas::gemm(false, false, n, batch, k, C(1), v + f * n * k, k, t.data(), batch, C(0),
                 xf.data(), batch);
      scatter(xf.data(), n, F, batch, f, x);
    }
  });
}

template <typename R>
void apply_transfer(const std::complex<R>* khat, i64 m, i64 n, i64 F, const std::complex<R>* x,
                    i64 batch, std::complex<R>* y, int threads) {
  using C = std::complex<R>;
  detail::run_items((F + kFreqBlock - 1) / kFreqBlock, threads, [&](i64 begin, i64 end) {
    std::vector<C> a(static_cast<std::size_t>(m * n)), xf(static_cast<std::size_t>(n * batch));
    std::vector<C> yf(static_cast<std::size_t>(m * batch));
    for (i64 f = begin * kFreqBlock; f < std::min(F, end * kFreqBlock); ++f) {
      for (i64 e = 0; e < m * n; ++e) a[static_cast<std::size_t>(e)] = std::conj(khat[e * F + f]);
      gather(x, n, F, batch, f, xf.data());
      blas::gemm(false, false, m, batch, n, C(1), a.data(), n, xf.data(), batch, C(0), yf.data(),
                 batch);
      scatter(yf.data(), m, F, batch, f, y);
    }
  });
}

template void transfer_svd<float>(const std::complex<float>*, i64, i64, i64, std::complex<float>*,
                                  float*, std::complex<float>*, int);
template void transfer_svd<double>(const std::complex<double>*, i64, i64, i64,
                                   std::complex<double>*, double*, std::complex<double>*, int);
template void apply_pinv<float>(const std::complex<float>*, const float*,
                                const std::complex<float>*, i64, i64, i64,
                                const std::complex<float>*, i64, std::complex<float>*, int);
template void apply_pinv<double>(const std::complex<double>*, const double*,
                                 const std::complex<double>*, i64, i64, i64,
                                 const std::complex<double>*, i64, std::complex<double>*, int);
template void apply_transfer<float>(const std::complex<float>*, i64, i64, i64,
                                    const std::complex<float>*, i64, std::complex<float>*, int);
template void apply_transfer<double>(const std::complex<double>*, i64, i64, i64,
                                     const std::complex<double>*, i64, std::complex<double>*, int);

}  // namespace hetensor::conv
