#include "hetensor/linalg/power_iteration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "hetensor/common/blas.hpp"
#include "hetensor/common/error.hpp"
#include "hetensor/common/parallel.hpp"

namespace hetensor::linalg {

namespace {

using std::int64_t;

template <typename T>
std::size_t sz(T v) {
  return static_cast<std::size_t>(v);
}

// One CholeskyQR pass on the n x p block V: G = V^T V = R^T R, V <- V R^{-1} (via `scratch`,
// n x p). Returns false (V untouched) when a pivot shows V is numerically rank deficient.
template <typename T>
bool cholesky_qr(T* v, int64_t n, int64_t p, T* scratch, std::vector<double>& g,
                 std::vector<T>& rinv) {
  std::vector<T> gt(sz(p * p));
  blas::gemm(true, false, p, p, n, T(1), v, p, v, p, T(0), gt.data(), p);
  g.assign(gt.begin(), gt.end());
  // Upper Cholesky in double (p is small): G = R^T R, R stored in the upper triangle of g.
  const double floor = 100.0 * static_cast<double>(std::numeric_limits<T>::epsilon());
  for (int64_t j = 0; j < p; ++j) {
    const double gjj = g[sz(j * p + j)];
    double d = gjj;
    for (int64_t i = 0; i < j; ++i) d -= g[sz(i * p + j)] * g[sz(i * p + j)];
    if (!(d > floor * gjj) || !(gjj > 0.0)) return false;
    const double rjj = std::sqrt(d);
    g[sz(j * p + j)] = rjj;
    for (int64_t c = j + 1; c < p; ++c) {
      double s = g[sz(j * p + c)];
      for (int64_t i = 0; i < j; ++i) s -= g[sz(i * p + j)] * g[sz(i * p + c)];
      g[sz(j * p + c)] = s / rjj;
    }
  }
  // R^{-1}, upper triangular, by back substitution column by column.
  std::vector<double> inv(sz(p * p), 0.0);
  for (int64_t c = 0; c < p; ++c) {
    inv[sz(c * p + c)] = 1.0 / g[sz(c * p + c)];
    for (int64_t r = c - 1; r >= 0; --r) {
      double s = 0.0;
      for (int64_t i = r + 1; i <= c; ++i) s += g[sz(r * p + i)] * inv[sz(i * p + c)];
      inv[sz(r * p + c)] = -s / g[sz(r * p + r)];
    }
  }
  rinv.assign(inv.begin(), inv.end());
  blas::gemm(false, false, n, p, p, T(1), v, p, rinv.data(), p, T(0), scratch, p);
  std::copy(scratch, scratch + n * p, v);
  return true;
}

// Orthonormal basis of span(V) in place: CholeskyQR2, Householder QR when it cannot.
template <typename T>
bool orthonormalize(T* v, int64_t n, int64_t p, T* scratch) {
  std::vector<double> g;
  std::vector<T> rinv;
  if (cholesky_qr(v, n, p, scratch, g, rinv) && cholesky_qr(v, n, p, scratch, g, rinv)) {
    return true;
  }
  blas::householder_q(n, p, v, p);
  return false;
}

template <typename T>
void check_finite_block(const T* w, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(w[i])) {
      throw NonFiniteError("A @ V is not finite (NaN or infinity in the operator's output, "
                           "entry " + std::to_string(i) + ")");
    }
  }
}

}  // namespace

template <typename T>
PowerIterationResult power_iteration(int64_t n, int64_t k, int64_t p, const MatMat<T>& matmat,
                                     T* v, double tol, int64_t max_iter, T* eigvals,
                                     T* eigvecs, double* residuals) {
  if (n < 1 || k < 1 || k > p || p > n) {
    throw std::invalid_argument("power_iteration needs 1 <= k <= p <= n, got n=" +
                                std::to_string(n) + ", k=" + std::to_string(k) +
                                ", p=" + std::to_string(p));
  }
  if (max_iter < 1) throw std::invalid_argument("max_iter must be >= 1");
  const std::size_t np = sz(n * p);
  std::vector<T> w(np), x(np), x_prev(np), scratch(np);
  std::vector<T> h(sz(p * p)), theta(sz(p)), s(sz(p * p));
  std::vector<int64_t> order(sz(p));
  std::vector<double> dot(sz(p)), diff(sz(p)), res(sz(p));
  const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
  const double sym_tol = 10.0 * std::sqrt(eps);

  PowerIterationResult out;
  check_finite_block(v, n * p);
  if (!orthonormalize(v, n, p, scratch.data())) ++out.fallbacks;

  for (int64_t it = 1; it <= max_iter; ++it) {
    matmat(v, w.data());
    out.iterations = it;
    check_finite_block(w.data(), n * p);
    // Rayleigh-Ritz: H = V^T A V (symmetric when A is), H = S diag(theta) S^T.
    blas::gemm(true, false, p, p, n, T(1), v, p, w.data(), p, T(0), h.data(), p);
    double hmax = 0.0, asym = 0.0;
    for (int64_t i = 0; i < p; ++i) {
      for (int64_t j = 0; j < p; ++j) {
        const double hij = h[sz(i * p + j)], hji = h[sz(j * p + i)];
        hmax = std::max(hmax, std::abs(hij));
        asym = std::max(asym, std::abs(hij - hji));
      }
    }
    if (asym > sym_tol * hmax) {
      throw std::invalid_argument(
          "A is not symmetric: V^T A V differs from its transpose by " + std::to_string(asym) +
          " (relative " + std::to_string(asym / hmax) + "); power_iteration needs a symmetric A");
    }
    for (int64_t i = 0; i < p; ++i) {
      for (int64_t j = i + 1; j < p; ++j) {
        const T m = (h[sz(i * p + j)] + h[sz(j * p + i)]) / T(2);
        h[sz(i * p + j)] = m;
        h[sz(j * p + i)] = m;
      }
    }
    blas::syev(p, h.data(), p, theta.data());
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return std::abs(theta[sz(a)]) > std::abs(theta[sz(b)]);
    });
    for (int64_t i = 0; i < p; ++i) {
      for (int64_t j = 0; j < p; ++j) s[sz(i * p + j)] = h[sz(i * p + order[sz(j)])];
    }
    // Ritz vectors X = V S and A X = W S (written over V, which is not needed any more).
    blas::gemm(false, false, n, p, p, T(1), v, p, s.data(), p, T(0), x.data(), p);
    blas::gemm(false, false, n, p, p, T(1), w.data(), p, s.data(), p, T(0), v, p);
    T* ax = v;

    // Align each Ritz vector's sign with the previous iterate, then measure changes.
    std::fill(dot.begin(), dot.end(), 0.0);
    if (it > 1) {
      for (int64_t r = 0; r < n; ++r) {
        const T* xr = x.data() + r * p;
        const T* pr = x_prev.data() + r * p;
        for (int64_t j = 0; j < k; ++j) dot[sz(j)] += double(xr[j]) * double(pr[j]);
      }
    }
    std::fill(diff.begin(), diff.end(), 0.0);
    std::fill(res.begin(), res.end(), 0.0);
    for (int64_t r = 0; r < n; ++r) {
      T* xr = x.data() + r * p;
      T* ar = ax + r * p;
      const T* pr = x_prev.data() + r * p;
      for (int64_t j = 0; j < k; ++j) {
        if (dot[sz(j)] < 0.0) {
          xr[j] = -xr[j];
          ar[j] = -ar[j];
        }
        const double dj = double(xr[j]) - double(pr[j]);
        diff[sz(j)] += dj * dj;
        const double rj = double(ar[j]) - double(theta[sz(order[sz(j)])]) * double(xr[j]);
        res[sz(j)] += rj * rj;
      }
    }
    double change = std::numeric_limits<double>::infinity();
    if (it > 1) {
      change = 0.0;
      for (int64_t j = 0; j < k; ++j) change = std::max(change, std::sqrt(diff[sz(j)]));
    }
    out.max_change = change;
    const bool last = change < tol || it == max_iter;
    if (last) {
      out.converged = change < tol;
      for (int64_t j = 0; j < k; ++j) {
        eigvals[j] = theta[sz(order[sz(j)])];
        residuals[j] = std::sqrt(res[sz(j)]);
        // Sign convention: the entry of largest magnitude (first one on ties) is positive.
        int64_t arg = 0;
        T best = T(-1);
        for (int64_t r = 0; r < n; ++r) {
          const T a = std::abs(x[sz(r * p + j)]);
          if (a > best) {
            best = a;
            arg = r;
          }
        }
        const T sign = x[sz(arg * p + j)] < T(0) ? T(-1) : T(1);
        for (int64_t r = 0; r < n; ++r) eigvecs[r * k + j] = sign * x[sz(r * p + j)];
      }
      return out;
    }
    // Power step on the Ritz vectors: V <- orth(A X).
    if (!orthonormalize(v, n, p, scratch.data())) ++out.fallbacks;
    std::swap(x, x_prev);
  }
  return out;  // not reached: the loop returns at it == max_iter
}

template <typename T, typename I>
void csr_matmat(const CsrView<T, I>& a, const T* x, int64_t p, T* y, int threads) {
  auto rows = [&](int64_t begin, int64_t end) {
    std::vector<T> acc(sz(p));
    for (int64_t i = begin; i < end; ++i) {
      std::fill(acc.begin(), acc.end(), T(0));
      T* __restrict accp = acc.data();
      const int64_t lo = static_cast<int64_t>(a.indptr[i]);
      const int64_t hi = static_cast<int64_t>(a.indptr[i + 1]);
      for (int64_t jj = lo; jj < hi; ++jj) {
        const T aij = a.data[jj];
        const T* __restrict xr = x + static_cast<int64_t>(a.indices[jj]) * p;
        for (int64_t c = 0; c < p; ++c) accp[c] += aij * xr[c];
      }
      std::copy(acc.begin(), acc.end(), y + i * p);
    }
  };
  // Chunks of at least ~32k stored values keep thread start-up cost small.
  const int64_t nnz = a.n_rows > 0 ? static_cast<int64_t>(a.indptr[a.n_rows]) : 0;
  int t = threads > 0 ? threads : default_num_threads();
  t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(t, nnz * p / 32768)));
  parallel_for(a.n_rows, rows, t);
}

template <typename T>
double dense_max_asymmetry(const T* a, int64_t n) {
  constexpr int64_t kBlock = 64;
  double worst = 0.0;
  for (int64_t ib = 0; ib < n; ib += kBlock) {
    const int64_t ie = std::min(n, ib + kBlock);
    for (int64_t jb = ib; jb < n; jb += kBlock) {
      const int64_t je = std::min(n, jb + kBlock);
      for (int64_t i = ib; i < ie; ++i) {
        for (int64_t j = std::max(jb, i); j < je; ++j) {
          const T aij = a[i * n + j], aji = a[j * n + i];
          if (!std::isfinite(aij) || !std::isfinite(aji)) {
            throw NonFiniteError("A holds NaN or infinity (at row " +
                                 std::to_string(std::isfinite(aij) ? j : i) + ")");
          }
          worst = std::max(worst, std::abs(double(aij) - double(aji)));
        }
      }
    }
  }
  return worst;
}

template <typename T, typename I>
double csr_max_asymmetry(const CsrView<T, I>& a, int threads) {
  if (a.n_rows != a.n_cols) throw std::invalid_argument("csr_max_asymmetry needs a square matrix");
  std::vector<double> worst(sz(std::max(1, threads > 0 ? threads : default_num_threads())), 0.0);
  const int t = static_cast<int>(worst.size());
  const int64_t chunk = (a.n_rows + t - 1) / t;
  parallel_for(
      t,
      [&](int64_t tb, int64_t te) {
        for (int64_t ti = tb; ti < te; ++ti) {
          double w = 0.0;
          const int64_t rb = ti * chunk, re = std::min(a.n_rows, rb + chunk);
          for (int64_t i = rb; i < re; ++i) {
            for (auto jj = a.indptr[i]; jj < a.indptr[i + 1]; ++jj) {
              const T aij = a.data[jj];
              if (!std::isfinite(aij)) {
                throw NonFiniteError("A holds NaN or infinity (at row " + std::to_string(i) +
                                     ")");
              }
              const int64_t j = static_cast<int64_t>(a.indices[jj]);
              const I* first = a.indices + a.indptr[j];
              const I* last = a.indices + a.indptr[j + 1];
              const I* hit = std::lower_bound(first, last, static_cast<I>(i));
              const T aji = (hit != last && static_cast<int64_t>(*hit) == i)
                                ? a.data[hit - a.indices]
                                : T(0);
              w = std::max(w, std::abs(double(aij) - double(aji)));
            }
          }
          worst[sz(ti)] = w;
        }
      },
      t);
  return *std::max_element(worst.begin(), worst.end());
}

#define HETENSOR_PI_INSTANTIATE(T)                                                            \
  template PowerIterationResult power_iteration<T>(int64_t, int64_t, int64_t, const MatMat<T>&, \
                                                   T*, double, int64_t, T*, T*, double*);     \
  template double dense_max_asymmetry<T>(const T*, int64_t);                                  \
  template void csr_matmat<T, std::int32_t>(const CsrView<T, std::int32_t>&, const T*,         \
                                            int64_t, T*, int);                                \
  template void csr_matmat<T, std::int64_t>(const CsrView<T, std::int64_t>&, const T*,         \
                                            int64_t, T*, int);                                \
  template double csr_max_asymmetry<T, std::int32_t>(const CsrView<T, std::int32_t>&, int);   \
  template double csr_max_asymmetry<T, std::int64_t>(const CsrView<T, std::int64_t>&, int);

HETENSOR_PI_INSTANTIATE(float)
HETENSOR_PI_INSTANTIATE(double)

#undef HETENSOR_PI_INSTANTIATE

}  // namespace hetensor::linalg
