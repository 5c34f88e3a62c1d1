#include "hetensor/conv/fft_pinv.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <vector>

#include "hetensor/common/blas.hpp"
#include "threading.hpp"

namespace hetensor::conv {

namespace {

using i64 = std::int64_t;

// Frequencies per work item: consecutive frequencies share cache lines of the strided spectra.
constexpr i64 kFreqBlock = 16;

i64 blocks(i64 F) { return (F + kFreqBlock - 1) / kFreqBlock; }

template <typename C>
double frobenius(const C* a, i64 len) {
  double s = 0.0;
  for (i64 e = 0; e < len; ++e) s += static_cast<double>(std::norm(a[e]));
  return std::sqrt(s);
}

// Row-major m x n -> column-major (what LAPACK reads).
template <typename C>
void to_col_major(const C* a, i64 m, i64 n, C* out) {
  for (i64 j = 0; j < m; ++j) {
    for (i64 i = 0; i < n; ++i) out[j + i * m] = a[j * n + i];
  }
}

}  // namespace

template <typename R>
PinvStats transfer_pinv(const std::complex<R>* a, i64 m, i64 n, i64 F, double rcond, bool global,
                        std::complex<R>* p, i64* rank, int threads) {
  using C = std::complex<R>;
  const i64 k = std::min(m, n), mn = m * n;
  const double eps = static_cast<double>(std::numeric_limits<R>::epsilon());
  // 1/||A^-1||_F bounds sigma_min from below; the computed inverse has relative error about
  // n * cond * eps, so its norm is trusted (within a factor 2, hence the 0.5 below) only while
  // ||A||_F ||A^-1||_F <= 1 / (8 n eps). Worse-conditioned frequencies take the SVD.
  const double max_cond = 1.0 / (8.0 * static_cast<double>(n) * eps);
  std::vector<double> fro(static_cast<std::size_t>(F)), lower(static_cast<std::size_t>(F), 0.0);

  detail::run_items(blocks(F), threads, [&](i64 begin, i64 end) {
    std::unique_ptr<blas::ComplexInverse<R>> inv;
    if (m == n) inv = std::make_unique<blas::ComplexInverse<R>>(n);
    for (i64 f = begin * kFreqBlock; f < std::min(F, end * kFreqBlock); ++f) {
      const C* af = a + f * mn;
      fro[static_cast<std::size_t>(f)] = frobenius(af, mn);
      if (m != n) continue;
      // The row-major buffer read column-major is A^T; (A^T)^-1 column-major is A^-1 row-major.
      C* pf = p + f * mn;
      std::copy(af, af + mn, pf);
      if (!(*inv)(pf)) continue;
      const double inv_fro = frobenius(pf, mn);
      if (std::isfinite(inv_fro) && fro[static_cast<std::size_t>(f)] * inv_fro <= max_cond) {
        lower[static_cast<std::size_t>(f)] = 0.5 / inv_fro;
      }
    }
  });

  const double fro_max = F > 0 ? *std::max_element(fro.begin(), fro.end()) : 0.0;
  std::vector<i64> rest;
  for (i64 f = 0; f < F; ++f) {
    const auto u = static_cast<std::size_t>(f);
    const double tol_bound = rcond * (global ? fro_max : fro[u]);  // >= the true cut-off
    if (lower[u] > tol_bound) {
      rank[f] = k;
    } else {
      rest.push_back(f);
    }
  }
  PinvStats stats;
  stats.inverted = F - static_cast<i64>(rest.size());
  stats.svd = static_cast<i64>(rest.size());
  if (rest.empty()) return stats;

  // The exact global s_max: sigma_max(A_f) <= ||A_f||_F, so frequencies are visited by
  // decreasing Frobenius norm until none left can beat the largest sigma_max found.
  double smax = 0.0;
  if (global) {
    std::vector<i64> order(static_cast<std::size_t>(F));
    std::iota(order.begin(), order.end(), i64{0});
    std::sort(order.begin(), order.end(), [&](i64 x, i64 y) {
      return fro[static_cast<std::size_t>(x)] > fro[static_cast<std::size_t>(y)];
    });
    const double slack = 1.0 + 4.0 * static_cast<double>(k) * eps;  // rounding of both norms
    const i64 chunk = 8 * std::max(1, threads > 0 ? threads : default_num_threads());
    std::vector<R> top(static_cast<std::size_t>(chunk));
    for (i64 pos = 0;
         pos < F &&
         fro[static_cast<std::size_t>(order[static_cast<std::size_t>(pos)])] * slack > smax;) {
      const i64 count = std::min(chunk, F - pos);
      detail::run_items(count, threads, [&](i64 begin, i64 end) {
        blas::ComplexSvd<R> sv(m, n, false);
        std::vector<C> w(static_cast<std::size_t>(mn));
        std::vector<R> s(static_cast<std::size_t>(k));
        for (i64 c = begin; c < end; ++c) {
          to_col_major(a + order[static_cast<std::size_t>(pos + c)] * mn, m, n, w.data());
          sv(w.data(), s.data(), nullptr, nullptr);
          top[static_cast<std::size_t>(c)] = s[0];
        }
      });
      for (i64 c = 0; c < count; ++c) {
        smax = std::max(smax, static_cast<double>(top[static_cast<std::size_t>(c)]));
      }
      pos += count;
      stats.smax_svds += count;
    }
  }

  const i64 nrest = static_cast<i64>(rest.size());
  detail::run_items(nrest, threads, [&](i64 begin, i64 end) {
    blas::ComplexSvd<R> svd(m, n);
    std::vector<C> w(static_cast<std::size_t>(mn)), u(static_cast<std::size_t>(m * k));
    std::vector<C> vh(static_cast<std::size_t>(k * n));
    std::vector<R> s(static_cast<std::size_t>(k));
    for (i64 c = begin; c < end; ++c) {
      const i64 f = rest[static_cast<std::size_t>(c)];
      to_col_major(a + f * mn, m, n, w.data());
      svd(w.data(), s.data(), u.data(), vh.data());
      const double tol = rcond * (global ? smax : static_cast<double>(s[0]));
      i64 r = 0;
      while (r<k&& static_cast<double>(s[static_cast<std::size_t>(r)])> tol) ++r;
      rank[f] = r;
      // P = V diag(1/s) U^H over the kept r: P[i][j] = sum_l conj(Vh(l, i)) / s_l conj(U(j, l)).
      C* pf = p + f * mn;
      std::fill(pf, pf + mn, C(0));
      for (i64 l = 0; l < r; ++l) {
        const R sinv = R(1) / s[static_cast<std::size_t>(l)];
        for (i64 i = 0; i < n; ++i) {
          const C vi = std::conj(vh[static_cast<std::size_t>(l + i * k)]) * sinv;
          for (i64 j = 0; j < m; ++j)
            pf[i * m + j] += vi * std::conj(u[static_cast<std::size_t>(j + l * m)]);
        }
      }
    }
  });
  return stats;
}

template <typename R>
void transfer_singular_values(const std::complex<R>* a, i64 m, i64 n, i64 F, R* s, int threads) {
  using C = std::complex<R>;
  const i64 k = std::min(m, n);
  detail::run_items(blocks(F), threads, [&](i64 begin, i64 end) {
    blas::ComplexSvd<R> sv(m, n, false);
    std::vector<C> w(static_cast<std::size_t>(m * n));
    for (i64 f = begin * kFreqBlock; f < std::min(F, end * kFreqBlock); ++f) {
      to_col_major(a + f * m * n, m, n, w.data());
      sv(w.data(), s + f * k, nullptr, nullptr);
    }
  });
}

template <typename R>
void apply_per_frequency(const std::complex<R>* mats, i64 rows, i64 cols, i64 F,
                         const std::complex<R>* x, i64 batch, std::complex<R>* y, int threads) {
  using C = std::complex<R>;
  detail::run_items(blocks(F), threads, [&](i64 begin, i64 end) {
    // One block of frequencies at a time: gathered (frequency, channel, image) so that each
    // frequency is one small contiguous GEMM; the strided spectra are read along f.
    std::vector<C> xb(static_cast<std::size_t>(kFreqBlock * cols * batch));
    std::vector<C> yb(static_cast<std::size_t>(kFreqBlock * rows * batch));
    for (i64 f0 = begin * kFreqBlock; f0 < std::min(F, end * kFreqBlock); f0 += kFreqBlock) {
      const i64 nf = std::min(kFreqBlock, F - f0);
      for (i64 b = 0; b < batch; ++b) {
        for (i64 c = 0; c < cols; ++c) {
          const C* src = x + (b * cols + c) * F + f0;
          for (i64 q = 0; q < nf; ++q)
            xb[static_cast<std::size_t>((q * cols + c) * batch + b)] = src[q];
        }
      }
      for (i64 q = 0; q < nf; ++q) {
        blas::gemm(false, false, rows, batch, cols, C(1), mats + (f0 + q) * rows * cols, cols,
                   xb.data() + q * cols * batch, batch, C(0), yb.data() + q * rows * batch, batch);
      }
      for (i64 b = 0; b < batch; ++b) {
        for (i64 r = 0; r < rows; ++r) {
          C* dst = y + (b * rows + r) * F + f0;
          for (i64 q = 0; q < nf; ++q)
            dst[q] = yb[static_cast<std::size_t>((q * rows + r) * batch + b)];
        }
      }
    }
  });
}

template PinvStats transfer_pinv<float>(const std::complex<float>*, i64, i64, i64, double, bool,
                                        std::complex<float>*, i64*, int);
template PinvStats transfer_pinv<double>(const std::complex<double>*, i64, i64, i64, double, bool,
                                         std::complex<double>*, i64*, int);
template void transfer_singular_values<float>(const std::complex<float>*, i64, i64, i64, float*,
                                              int);
template void transfer_singular_values<double>(const std::complex<double>*, i64, i64, i64, double*,
                                               int);
template void apply_per_frequency<float>(const std::complex<float>*, i64, i64, i64,
                                         const std::complex<float>*, i64, std::complex<float>*,
                                         int);
template void apply_per_frequency<double>(const std::complex<double>*, i64, i64, i64,
                                          const std::complex<double>*, i64, std::complex<double>*,
                                          int);

}  // namespace hetensor::conv
