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
#include "hetensor/nn/step_gemm.hpp"

namespace hetensor::linalg {

namespace {

using std::int64_t;

template <typename T>
std::size_t sz(T v) {
  return static_cast<std::size_t>(v);
}

// Y = X S for a tall n x p block X and a small p x p matrix S (row-major). OpenBLAS's GEMM
// is pathologically slow for this shape (n = 200,000, p = 8 runs at ~0.2 GFLOP/s), so this is
// a direct row loop, memory bound and threaded.
template <typename T>
void right_multiply_small(const T* x, int64_t n, int64_t p, const T* s, T* y) {
  const int threads = n * p * p >= (int64_t{1} << 18) ? default_num_threads() : 1;
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const T* __restrict xr = x + r * p;
          T* __restrict yr = y + r * p;
          for (int64_t j = 0; j < p; ++j) yr[j] = T(0);
          for (int64_t i = 0; i < p; ++i) {
            const T xi = xr[i];
            const T* __restrict si = s + i * p;
            for (int64_t j = 0; j < p; ++j) yr[j] += xi * si[j];
          }
        }
      },
      threads);
}

// Gram matrix G = V^T V (p x p, accumulated by GEMM) converted to double.
template <typename T>
std::vector<double> gram(const T* v, int64_t n, int64_t p) {
  std::vector<T> gt(sz(p * p));
  blas::gemm(true, false, p, p, n, T(1), v, p, v, p, T(0), gt.data(), p);
  return std::vector<double>(gt.begin(), gt.end());
}

// One CholeskyQR pass: G = V^T V = R^T R, V <- V R^{-1} (result in `out`, n x p). Returns
// false (out untouched) when a pivot shows V is numerically rank deficient.
template <typename T>
bool cholesky_qr(const T* v, int64_t n, int64_t p, std::vector<double> g, T* out) {
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
  const std::vector<T> rinv(inv.begin(), inv.end());
  right_multiply_small(v, n, p, rinv.data(), out);
  return true;
}

// Orthonormal basis of span(V): CholeskyQR2 (the second pass is skipped when the first one
// already left V^T V within 16 p eps of I), Householder QR when Cholesky cannot. V and
// `scratch` may be swapped. Returns false when Householder QR was needed.
template <typename T>
bool orthonormalize(std::vector<T>& v, int64_t n, int64_t p, std::vector<T>& scratch) {
  const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<double> g = gram(v.data(), n, p);
    if (pass == 1) {
      double off = 0.0;
      for (int64_t i = 0; i < p; ++i) {
        for (int64_t j = 0; j < p; ++j) off = std::max(off, std::abs(g[sz(i * p + j)] - (i == j)));
      }
      if (off <= 16.0 * double(p) * eps) return true;
    }
    if (!cholesky_qr(v.data(), n, p, std::move(g), scratch.data())) {
      blas::householder_q(n, p, v.data(), p);
      return false;
    }
    std::swap(v, scratch);
  }
  return true;
}

}  // namespace

template <typename T>
PowerIterationResult power_iteration(int64_t n, int64_t k, int64_t p, const MatMat<T>& matmat, T* v,
                                     double tol, int64_t max_iter, T* eigvals, T* eigvecs,
                                     double* residuals, int64_t filter_degree) {
  if (n < 1 || k < 1 || k > p || p > n) {
    throw std::invalid_argument(
        "power_iteration needs 1 <= k <= p <= n, got n=" + std::to_string(n) +
        ", k=" + std::to_string(k) + ", p=" + std::to_string(p));
  }
  if (max_iter < 1) throw std::invalid_argument("max_iter must be >= 1");
  if (filter_degree < 1) throw std::invalid_argument("filter_degree must be >= 1");
  // Without guard vectors (p == k) the Ritz values say nothing of the unwanted spectrum's
  // extent: plain power steps then. With p == n, Rayleigh-Ritz is exact at once.
  if (p == k) filter_degree = 1;
  const std::size_t np = sz(n * p);
  std::vector<T> y_prev(filter_degree > 1 ? np : 0);  // Chebyshev recurrence: Y_{j-1}
  std::vector<T> vb(v, v + n * p), w(np), x(np), x_prev(np), scratch(np);
  std::vector<T> h(sz(p * p)), theta(sz(p)), s(sz(p * p));
  std::vector<int64_t> order(sz(p));
  std::vector<double> dot(sz(p)), diff(sz(p)), res(sz(p)), axn(sz(p));
  const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
  const double sym_tol = 10.0 * std::sqrt(eps);

  // All parallelism is ours (threaded operator products and row loops): OpenBLAS's pool
  // would spin on the cores between its calls, taking them from the other steps.
  const blas::ScopedSingleThread single_threaded_blas;
  PowerIterationResult out;
  require_finite(vb.data(), n * p, "A @ V");
  if (!orthonormalize(vb, n, p, scratch)) ++out.fallbacks;

  for (int64_t it = 1;; ++it) {
    const T* v_cur = vb.data();
    matmat(v_cur, w.data());
    out.iterations = it;
    ++out.matmats;
    require_finite(w.data(), n * p, "A @ V");
    // Rayleigh-Ritz: H = V^T A V (symmetric when A is), H = S diag(theta) S^T.
    blas::gemm(true, false, p, p, n, T(1), v_cur, p, w.data(), p, T(0), h.data(), p);
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
    right_multiply_small(v_cur, n, p, s.data(), x.data());
    right_multiply_small(w.data(), n, p, s.data(), vb.data());
    T* ax = vb.data();

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
    std::fill(axn.begin(), axn.end(), 0.0);
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
      for (int64_t j = 0; j < p; ++j) axn[sz(j)] += double(ar[j]) * double(ar[j]);
    }
    double change = std::numeric_limits<double>::infinity();
    if (it > 1) {
      change = 0.0;
      for (int64_t j = 0; j < k; ++j) change = std::max(change, std::sqrt(diff[sz(j)]));
    }
    out.max_change = change;
    const bool last = change < tol || out.matmats >= max_iter;
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
    // Filter degree for this step: the budget of matmats bounds it (the next Rayleigh-Ritz
    // step needs one more), and the first step is a power step (its Ritz values are those of
    // a random block).
    int64_t degree = it == 1 ? 1 : std::min(filter_degree, max_iter - out.matmats);
    double c = 0.0, ref = 0.0;
    if (degree > 1) {
      // Damped interval [-c, c]: c = the largest ||A g|| over the guard Ritz vectors g (columns
      // k..p-1), an estimate of the unwanted spectrum's extent max |lambda_j|, j > k. Their
      // Ritz values would not do: a guard mixes eigenvectors from both ends of a symmetric
      // bulk, so its Rayleigh quotient is near 0 while ||A g|| is near the bulk's radius.
      // Normalisation point ref: the largest ||A x_j|| (<= ||A||, >= |theta_1|).
      for (int64_t j = 0; j < p; ++j) ref = std::max(ref, std::sqrt(axn[sz(j)]));
      for (int64_t j = k; j < p; ++j) c = std::max(c, std::sqrt(axn[sz(j)]));
      if (!(c > 0.0) || !(c < 0.99 * ref) || !std::isfinite(ref)) {
        degree = 1;
      } else {
        // The filter multiplies the wanted columns by up to T_m(ref / c) more than the guards;
        // beyond 1/sqrt(eps) the guards (and so c) drown in rounding, so m is capped.
        const double cap = std::acosh(1.0 / std::sqrt(eps)) / std::acosh(ref / c);
        degree = std::min<int64_t>(degree, static_cast<int64_t>(cap));
      }
    }
    if (degree > 1) {
      // Scaled Chebyshev recurrence (Zhou & Saad 2007) centred at 0 with half-width c:
      // Y_1 = (s_1 / c) A X, Y_{j+1} = (2 s_{j+1} / c) A Y_j - s_j s_{j+1} Y_{j-1},
      // s_1 = c / ref, s_{j+1} = 1 / (2 / s_1 - s_j): Y_m = T_m(A / c) X / T_m(ref / c).
      const double s1 = c / ref;
      double sj = s1;
      std::copy(x.begin(), x.end(), y_prev.begin());
      const T a1 = static_cast<T>(s1 / c);
      for (std::size_t e = 0; e < np; ++e) vb[e] *= a1;  // Y_1, from A X = vb
      for (int64_t j = 2; j <= degree; ++j) {
        matmat(vb.data(), w.data());
        ++out.matmats;
        require_finite(w.data(), n * p, "A @ V");
        const double snext = 1.0 / (2.0 / s1 - sj);
        const T alpha = static_cast<T>(2.0 * snext / c), beta = static_cast<T>(sj * snext);
        T* __restrict yp = y_prev.data();
        const T* __restrict wp = w.data();
        for (std::size_t e = 0; e < np; ++e) yp[e] = alpha * wp[e] - beta * yp[e];
        std::swap(vb, y_prev);  // vb <- Y_j, y_prev <- Y_{j-1}
        sj = snext;
      }
      // Unit columns: the filter scales the columns very differently, which the span ignores
      // but CholeskyQR's conditioning does not.
      std::vector<double> norms(sz(p), 0.0);
      for (int64_t r = 0; r < n; ++r) {
        for (int64_t j = 0; j < p; ++j)
          norms[sz(j)] += double(vb[sz(r * p + j)]) * double(vb[sz(r * p + j)]);
      }
      std::vector<T> scale(sz(p));
      for (int64_t j = 0; j < p; ++j) {
        scale[sz(j)] = norms[sz(j)] > 0.0 ? static_cast<T>(1.0 / std::sqrt(norms[sz(j)])) : T(1);
      }
      for (int64_t r = 0; r < n; ++r) {
        for (int64_t j = 0; j < p; ++j) vb[sz(r * p + j)] *= scale[sz(j)];
      }
    }
    // V <- orth(p(A) X) (p(A) = A for the power step).
    if (!orthonormalize(vb, n, p, scratch)) ++out.fallbacks;
    std::swap(x, x_prev);
  }
}

namespace {

// Y[:, c0:c0+w] = A X[:, c0:c0+w] where the panel of X is stored contiguously (n_cols x w).
// A row's products go to U partial sums per column (U W >= 4): with one sum per column a
// narrow panel (W = 1: Lanczos's matvec) waits on each add's latency before the next, and the
// gathers of X, which out-of-order execution would otherwise overlap, wait with it.
template <typename T, typename I, int W>
void csr_panel(const CsrView<T, I>& a, const T* xp, T* y, int64_t p, int64_t c0, int64_t begin,
               int64_t end) {
  constexpr int U = W >= 4 ? 1 : (4 + W - 1) / W;
  for (int64_t i = begin; i < end; ++i) {
    T acc[U][W] = {};
    const int64_t lo = static_cast<int64_t>(a.indptr[i]);
    const int64_t hi = static_cast<int64_t>(a.indptr[i + 1]);
    int64_t jj = lo;
    for (; jj + U <= hi; jj += U) {
      for (int u = 0; u < U; ++u) {
        const T aij = a.data[jj + u];
        const T* xr = xp + static_cast<int64_t>(a.indices[jj + u]) * W;
        for (int c = 0; c < W; ++c) acc[u][c] += aij * xr[c];
      }
    }
    for (; jj < hi; ++jj) {
      const T aij = a.data[jj];
      const T* xr = xp + static_cast<int64_t>(a.indices[jj]) * W;
      for (int c = 0; c < W; ++c) acc[0][c] += aij * xr[c];
    }
    for (int c = 0; c < W; ++c) {
      T sum = acc[0][c];
      for (int u = 1; u < U; ++u) sum += acc[u][c];
      y[i * p + c0 + c] = sum;
    }
  }
}

}  // namespace

template <typename T, typename I>
void csr_matmat(const CsrView<T, I>& a, const T* x, int64_t p, T* y, int threads) {
  // A random gather of a whole row of X per stored value thrashes the cache once X outgrows
  // it, so X is split into column panels small enough to stay cached (<= 8 MiB each), stored
  // contiguously, and A is streamed once per panel.
  const int64_t nnz = a.n_rows > 0 ? static_cast<int64_t>(a.indptr[a.n_rows]) : 0;
  int t = threads > 0 ? threads : default_num_threads();
  t = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(t, nnz * p / 32768)));
  // Widest panel in {8, 4, 2, 1} columns whose copy of X fits in ~8 MiB (a share of the L3).
  const int64_t budget = (int64_t{8} << 20) / static_cast<int64_t>(sizeof(T));
  int64_t width = 8;
  while (width > 1 && width * a.n_cols > budget) width /= 2;
  // One panel holding all of X (p <= width: Lanczos's single vector, small blocks) is X itself.
  std::vector<T> panel(p <= width ? 0 : sz(a.n_cols * width));
  for (int64_t c0 = 0; c0 < p; c0 += width) {
    const int64_t w = std::min(width, p - c0);
    const T* xp = x;
    if (w < p) {
      for (int64_t r = 0; r < a.n_cols; ++r) {
        for (int64_t c = 0; c < w; ++c) panel[sz(r * w + c)] = x[r * p + c0 + c];
      }
      xp = panel.data();
    }
    parallel_for(
        a.n_rows,
        [&](int64_t begin, int64_t end) {
          switch (w) {
            case 1:
              csr_panel<T, I, 1>(a, xp, y, p, c0, begin, end);
              break;
            case 2:
              csr_panel<T, I, 2>(a, xp, y, p, c0, begin, end);
              break;
            case 3:
              csr_panel<T, I, 3>(a, xp, y, p, c0, begin, end);
              break;
            case 4:
              csr_panel<T, I, 4>(a, xp, y, p, c0, begin, end);
              break;
            case 5:
              csr_panel<T, I, 5>(a, xp, y, p, c0, begin, end);
              break;
            case 6:
              csr_panel<T, I, 6>(a, xp, y, p, c0, begin, end);
              break;
            case 7:
              csr_panel<T, I, 7>(a, xp, y, p, c0, begin, end);
              break;
            default:
              csr_panel<T, I, 8>(a, xp, y, p, c0, begin, end);
              break;
          }
        },
        t);
  }
}

template <typename T>
void dense_matmat(const T* a, int64_t n, const T* v, int64_t p, T* w, int threads) {
  // nn::step_gemm's register-tiled kernel over V packed once (n x p, cached: ~n p 8 bytes),
  // A streamed once: OpenBLAS's GEMM re-packs all of A (n x n) on every call, which cost more
  // than its arithmetic for this shape (p << n). Blocks of at least 64 rows per thread.
  const nn::PackedWeights<T> packed(n, p, v, p, false);
  const int64_t t = std::max<int64_t>(
      1, std::min<int64_t>(threads > 0 ? threads : default_num_threads(), n / 64));
  parallel_for(
      n,
      [&](int64_t r0, int64_t r1) {
        nn::step_gemm(r1 - r0, a + r0 * n, n, packed, false, w + r0 * p, p);
      },
      static_cast<int>(t));
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
double csr_asymmetry_probe(const CsrView<T, I>& a, int threads) {
  if (a.n_rows != a.n_cols)
    throw std::invalid_argument("csr_asymmetry_probe needs a square matrix");
  const int64_t n = a.n_rows, q = 4;
  for (int64_t jj = 0; jj < static_cast<int64_t>(a.indptr[n]); ++jj) {
    if (!std::isfinite(a.data[jj])) throw NonFiniteError("A holds NaN or infinity");
  }
  // Deterministic pseudo-random probes in [-1, 1) (xorshift64*).
  std::vector<T> x(sz(n * q)), y(sz(n * q));
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  for (auto& v : x) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    v = static_cast<T>(double((state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-52 - 1.0);
  }
  csr_matmat(a, x.data(), q, y.data(), threads);
  double worst = 0.0;
  for (int64_t u = 0; u < q; ++u) {
    for (int64_t v = u + 1; v < q; ++v) {
      double uav = 0.0, vau = 0.0, scale = 0.0, nu = 0.0, nv = 0.0, nau = 0.0, nav = 0.0;
      for (int64_t r = 0; r < n; ++r) {
        const double xu = double(x[sz(r * q + u)]), xv = double(x[sz(r * q + v)]);
        const double au = double(y[sz(r * q + u)]), av = double(y[sz(r * q + v)]);
        uav += xu * av;
        vau += xv * au;
        nu += xu * xu;
        nv += xv * xv;
        nau += au * au;
        nav += av * av;
      }
      scale = std::sqrt(nu * nav) + std::sqrt(nv * nau);
      if (scale > 0.0) worst = std::max(worst, std::abs(uav - vau) / scale);
    }
  }
  return worst;
}

#define HETENSOR_PI_INSTANTIATE(T)                                                                 \
  template PowerIterationResult power_iteration<T>(int64_t, int64_t, int64_t, const MatMat<T>&,    \
                                                   T*, double, int64_t, T*, T*, double*, int64_t); \
  template double dense_max_asymmetry<T>(const T*, int64_t);                                       \
  template void dense_matmat<T>(const T*, int64_t, const T*, int64_t, T*, int);                    \
  template void csr_matmat<T, std::int32_t>(const CsrView<T, std::int32_t>&, const T*, int64_t,    \
                                            T*, int);                                              \
  template void csr_matmat<T, std::int64_t>(const CsrView<T, std::int64_t>&, const T*, int64_t,    \
                                            T*, int);                                              \
  template double csr_asymmetry_probe<T, std::int32_t>(const CsrView<T, std::int32_t>&, int);      \
  template double csr_asymmetry_probe<T, std::int64_t>(const CsrView<T, std::int64_t>&, int);

HETENSOR_PI_INSTANTIATE(float)
HETENSOR_PI_INSTANTIATE(double)

#undef HETENSOR_PI_INSTANTIATE

}  // namespace hetensor::linalg
