// Thick-restart Lanczos with full reorthogonalisation (see power_iteration.hpp).

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
#include "hetensor/linalg/power_iteration.hpp"

namespace hetensor::linalg {

namespace {

using std::int64_t;

template <typename T>
std::size_t sz(T v) {
  return static_cast<std::size_t>(v);
}

// Row-slice parallelism over vectors of length n: `count` slices of at least 16384 entries
// (below that one thread is faster), each handled by one task.
struct Slices {
  int64_t n = 0, count = 1, width = 0;
  Slices(int64_t n_, int threads) : n(n_) {
    const int64_t t = threads > 0 ? threads : default_num_threads();
    count = std::max<int64_t>(1, std::min<int64_t>(t, n / 16384));
    width = (n + count - 1) / count;
  }
  template <typename Fn>
  void run(Fn&& fn) const {  // fn(slice, begin, end)
    parallel_for(
        count,
        [&](int64_t s0, int64_t s1) {
          for (int64_t s = s0; s < s1; ++s) {
            const int64_t b = s * width, e = std::min(n, b + width);
            if (b < e) fn(s, b, e);
          }
        },
        static_cast<int>(count));
  }
};

// One classical Gram-Schmidt pass of w against the j rows of q (row stride n): h = Q w,
// w -= Q^T h. Adds h to `coef` and returns ||w||^2 after the pass.
template <typename T>
double cgs_pass(const Slices& sl, const T* q, int64_t j, T* w, std::vector<double>& coef,
                std::vector<T>& partial, std::vector<T>& h) {
  const int64_t n = sl.n;
  partial.assign(sz(sl.count * j), T(0));
  sl.run([&](int64_t s, int64_t b, int64_t e) {
    blas::gemv(false, j, e - b, T(1), q + b, n, w + b, T(0), partial.data() + s * j);
  });
  h.assign(sz(j), T(0));
  for (int64_t s = 0; s < sl.count; ++s) {
    for (int64_t i = 0; i < j; ++i) h[sz(i)] += partial[sz(s * j + i)];
  }
  for (int64_t i = 0; i < j; ++i) coef[sz(i)] += double(h[sz(i)]);
  std::vector<double> norm2(sz(sl.count), 0.0);
  sl.run([&](int64_t s, int64_t b, int64_t e) {
    blas::gemv(true, j, e - b, T(-1), q + b, n, h.data(), T(1), w + b);
    double acc = 0.0;
    for (int64_t r = b; r < e; ++r) acc += double(w[r]) * double(w[r]);
    norm2[sz(s)] = acc;
  });
  return std::accumulate(norm2.begin(), norm2.end(), 0.0);
}

template <typename T>
double norm2_of(const Slices& sl, const T* w) {
  std::vector<double> part(sz(sl.count), 0.0);
  sl.run([&](int64_t s, int64_t b, int64_t e) {
    double acc = 0.0;
    for (int64_t r = b; r < e; ++r) acc += double(w[r]) * double(w[r]);
    part[sz(s)] = acc;
  });
  return std::accumulate(part.begin(), part.end(), 0.0);
}

// out (c x n) = S^T Q: the c combinations of the j rows of q given by S's first c columns
// (S row-major j x ld_s), column slices of n on our threads.
template <typename T>
void combine_rows(const Slices& sl, const T* q, int64_t j, const std::vector<double>& s,
                  int64_t ld_s, int64_t c, T* out) {
  std::vector<T> st(sz(c * j));  // S^T (c x j), in T
  for (int64_t a = 0; a < c; ++a) {
    for (int64_t i = 0; i < j; ++i) st[sz(a * j + i)] = static_cast<T>(s[sz(i * ld_s + a)]);
  }
  const int64_t n = sl.n;
  sl.run([&](int64_t, int64_t b, int64_t e) {
    blas::gemm(false, false, c, e - b, j, T(1), st.data(), j, q + b, n, T(0), out + b, n);
  });
}

// Deterministic pseudo-random vector in [-1, 1) (xorshift64*).
template <typename T>
void random_fill(T* w, int64_t n, std::uint64_t& state) {
  for (int64_t i = 0; i < n; ++i) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    w[i] = static_cast<T>(double((state * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-52 - 1.0);
  }
}

}  // namespace

template <typename T>
LanczosResult lanczos(int64_t n, int64_t k, int64_t m, const BlockOp<T>& op, const T* v0,
                      double tol, int64_t max_steps, std::uint64_t seed, T* eigvals, T* eigvecs,
                      double* residuals) {
  if (n < 1 || k < 1 || k > n) {
    throw std::invalid_argument("lanczos needs 1 <= k <= n, got n=" + std::to_string(n) +
                                ", k=" + std::to_string(k));
  }
  m = std::min(m, n);
  if (m < k || (m < n && m < k + 1)) {
    throw std::invalid_argument("lanczos basis size m=" + std::to_string(m) +
                                " must be > k=" + std::to_string(k) + " (or equal to n)");
  }
  if (max_steps < 1) throw std::invalid_argument("max_iter must be >= 1");
  // All parallelism is ours (row slices, threaded operator products): OpenBLAS's pool would
  // spin on the cores between its calls.
  const blas::ScopedSingleThread single_threaded_blas;
  const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
  const double sym_tol = 10.0 * std::sqrt(eps);
  const double eps23 = std::pow(eps, 2.0 / 3.0);
  const int64_t keep_max = std::min(m - 1, k + std::max<int64_t>(1, (m - k) / 2));
  // A check cycle keeps the k converged vectors and adds at least 10 new ones (room for a
  // missing eigenvalue to show even when m is barely above k).
  const int64_t cap = std::min(n, std::max(m, k + 10));
  const Slices sl(n, 0);
  std::uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  if (rng == 0) rng = 1;

  std::vector<T> q(sz((cap + 1) * n)), scratch(sz(cap * n)), partial, hbuf;
  std::vector<double> t(sz(cap * cap), 0.0), lower(sz(cap + 1), 0.0), coef(sz(cap + 1));
  std::vector<double> theta_checked;  // the wanted Ritz values when the last check began
  std::vector<double> s, theta;
  std::vector<int64_t> order;
  LanczosResult out;
  out.basis_size = m;
  double anorm = 0.0;

  // Start vector.
  std::copy(v0, v0 + n, q.begin());
  require_finite(q.data(), n, "A @ v");
  double nrm = std::sqrt(norm2_of(sl, q.data()));
  if (!(nrm > 0.0)) {
    random_fill(q.data(), n, rng);
    nrm = std::sqrt(norm2_of(sl, q.data()));
  }
  for (int64_t r = 0; r < n; ++r) q[sz(r)] = static_cast<T>(q[sz(r)] / nrm);

  // Eigen-decomposition of the leading j x j block of T: theta by decreasing |.|, s (j x j,
  // row-major) the matching eigenvectors as columns.
  auto ritz = [&](int64_t j) {
    std::vector<double> a(sz(j * j)), w(sz(j));
    for (int64_t i = 0; i < j; ++i) {
      for (int64_t c = 0; c < j; ++c) a[sz(i * j + c)] = t[sz(i * cap + c)];
    }
    blas::syev(j, a.data(), j, w.data());
    order.resize(sz(j));
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return std::abs(w[sz(x)]) > std::abs(w[sz(y)]); });
    theta.resize(sz(j));
    s.resize(sz(j * j));
    for (int64_t c = 0; c < j; ++c) {
      theta[sz(c)] = w[sz(order[sz(c)])];
      for (int64_t i = 0; i < j; ++i) s[sz(i * j + c)] = a[sz(i * j + order[sz(c)])];
    }
  };
  // Largest relative Ritz residual estimate of the wanted pairs, residual norm `beta`.
  auto estimate = [&](int64_t j, double beta) {
    double worst = 0.0;
    const double floor = eps23 * std::max(anorm, std::abs(theta[0]));
    for (int64_t i = 0; i < std::min(k, j); ++i) {
      const double e = std::abs(beta * s[sz((j - 1) * j + i)]);
      const double scale = std::max(std::abs(theta[sz(i)]), floor);
      worst = std::max(worst, scale > 0.0 ? e / scale : (e > 0.0 ? HUGE_VAL : 0.0));
    }
    return worst;
  };
  // Makes row `row` of q a unit vector orthogonal to rows [0, row) from a random start;
  // false when none is left (the basis spans the whole space numerically).
  auto inject = [&](int64_t row) {
    T* z = q.data() + row * n;
    for (int attempt = 0; attempt < 3; ++attempt) {
      random_fill(z, n, rng);
      const double before = norm2_of(sl, z);
      std::fill(coef.begin(), coef.end(), 0.0);
      double after = before;
      for (int pass = 0; pass < 2 && row > 0; ++pass) {
        after = cgs_pass(sl, q.data(), row, z, coef, partial, hbuf);
      }
      if (after > 1e-4 * before) {
        const T inv = static_cast<T>(1.0 / std::sqrt(after));
        for (int64_t r = 0; r < n; ++r) z[r] *= inv;
        return true;
      }
    }
    return false;
  };

  int64_t j = 0;           // processed columns: T's leading j x j block is final
  int64_t basis = 1;       // rows of q that hold basis vectors (j or j + 1)
  bool skip_sym = false;   // column j's expected couplings are unknown (after an injection)
  bool verified = k >= n;  // a check cycle confirmed the converged pairs
  bool checking = false;   // the current cycle started from a random check vector
  double beta = 0.0;       // norm of the residual direction q_j (0: injected, exact)
  bool restarted = false;  // no step since the last restart (T's couplings are in `lower`)
  bool done = false;
  while (!done) {
    if (out.steps >= max_steps) break;
    // Lanczos step on column j: w = A q_j, orthogonalised against q_0..q_j.
    T* w = q.data() + (j + 1) * n;
    op(q.data() + j * n, 1, w);
    ++out.steps;
    restarted = false;
    require_finite(w, n, "A @ v");
    const double before = norm2_of(sl, w);
    std::fill(coef.begin(), coef.end(), 0.0);
    double after = cgs_pass(sl, q.data(), j + 1, w, coef, partial, hbuf);
    if (after < 0.5 * before) after = cgs_pass(sl, q.data(), j + 1, w, coef, partial, hbuf);
    for (int64_t i = 0; i <= j; ++i) anorm = std::max(anorm, std::abs(coef[sz(i)]));
    if (!skip_sym) {
      for (int64_t i = 0; i < j; ++i) {
        const double diff = std::abs(coef[sz(i)] - lower[sz(i)]);
        if (diff > sym_tol * anorm) {
          throw std::invalid_argument("A is not symmetric: q_i^T A q_j and q_j^T A q_i differ by " +
                                      std::to_string(diff) + " (relative " +
                                      std::to_string(diff / anorm) +
                                      "); power_iteration needs a symmetric A");
        }
      }
    }
    skip_sym = false;
    for (int64_t i = 0; i <= j; ++i) {
      t[sz(i * cap + j)] = coef[sz(i)];
      t[sz(j * cap + i)] = coef[sz(i)];
    }
    beta = std::sqrt(after);
    anorm = std::max(anorm, beta);
    ++j;
    std::fill(lower.begin(), lower.end(), 0.0);
    if (j == n) {
      beta = 0.0;  // the basis spans the space: T is A in that basis
    } else if (beta <= 16.0 * eps * anorm) {
      // Invariant Krylov space: continue from a random vector orthogonal to the basis (its
      // couplings are exactly 0 then); none left means the basis spans the space.
      beta = 0.0;
      if (!inject(j)) {
        done = true;
      }
    } else {
      const T inv = static_cast<T>(1.0 / beta);
      for (int64_t r = 0; r < n; ++r) w[r] *= inv;
      lower[sz(j - 1)] = beta;
    }
    basis = j + 1;
    if (j < (checking ? cap : m) && !done && j < n) continue;
    // The basis is full (or spans the space): Rayleigh-Ritz, test, restart.
    ritz(j);
    out.max_estimate = estimate(j, beta);
    const bool converged = out.max_estimate <= tol || (beta == 0.0 && j == n);
    if (converged && checking) {
      // The check confirms the pairs when it brought no new wanted eigenvalue in; each check
      // adds one vector per distinct eigenvalue, so a repeated one may need several.
      double moved = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        moved = std::max(moved, std::abs(theta[sz(i)] - theta_checked[sz(i)]));
      }
      verified = moved <= std::max(1e-8, 100.0 * tol) * std::max(anorm, std::abs(theta[0]));
    }
    checking = false;
    if (converged && (verified || j == n || done)) {
      out.converged = true;
      break;
    }
    if (j == n || done) {  // nothing left to add (cannot happen with converged == false)
      out.converged = converged;
      break;
    }
    // Thick restart: keep the Ritz vectors of largest |theta| and the residual direction, or
    // (first convergence) the k wanted ones and a random check vector.
    const bool check = converged;
    const int64_t keep = check ? k : keep_max;
    combine_rows(sl, q.data(), j, s, j, keep, scratch.data());
    std::copy(q.begin() + j * n, q.begin() + (j + 1) * n, q.begin() + keep * n);
    std::copy(scratch.begin(), scratch.begin() + keep * n, q.begin());
    std::fill(t.begin(), t.end(), 0.0);
    for (int64_t i = 0; i < keep; ++i) t[sz(i * cap + i)] = theta[sz(i)];
    std::fill(lower.begin(), lower.end(), 0.0);
    if (check) {
      checking = true;
      theta_checked.assign(theta.begin(), theta.begin() + k);
      skip_sym = true;  // couplings to the check vector are within the tolerance, not 0
      if (!inject(keep)) {
        out.converged = true;
        j = keep;
        ritz(j);
        beta = 0.0;
        break;
      }
    } else {
      for (int64_t i = 0; i < keep; ++i) lower[sz(i)] = beta * s[sz((j - 1) * j + i)];
    }
    j = keep;
    basis = j + 1;
    ++out.restarts;
    restarted = true;
  }
  if (!out.converged) {
    // Out of steps: Ritz pairs of what the basis holds (j columns processed). Right after a
    // restart T is diagonal and the kept vectors' residuals (in `lower`) were estimated
    // before it, so the estimate stands.
    ritz(j);
    if (!restarted) out.max_estimate = estimate(j, beta);
    out.converged = out.max_estimate <= tol;  // after a check injection: converged pairs
  }
  (void)basis;
  // Ritz vectors X^T (k x n) = S[:, :k]^T Q[0..j); fewer than k only if j < k (too few steps).
  const int64_t have = std::min(k, j);
  combine_rows(sl, q.data(), j, s, j, have, scratch.data());
  for (int64_t c = have; c < k; ++c) {  // too few steps for k pairs: orthonormal fill-ins
    std::copy(scratch.begin(), scratch.begin() + c * n, q.begin());
    if (!inject(c)) std::fill(q.begin() + c * n, q.begin() + (c + 1) * n, T(0));
    std::copy(q.begin() + c * n, q.begin() + (c + 1) * n, scratch.begin() + c * n);
  }
  for (int64_t c = 0; c < k; ++c) {
    const T* x = scratch.data() + c * n;
    int64_t arg = 0;
    T best = T(-1);
    for (int64_t r = 0; r < n; ++r) {
      if (std::abs(x[r]) > best) {
        best = std::abs(x[r]);
        arg = r;
      }
    }
    const T sign = x[arg] < T(0) ? T(-1) : T(1);
    for (int64_t r = 0; r < n; ++r) eigvecs[r * k + c] = sign * x[r];
    eigvals[c] = c < have ? static_cast<T>(theta[sz(c)]) : T(0);
  }
  // Explicit residuals ||A x - theta x|| from one block product.
  std::vector<T> ax(sz(n * k));
  op(eigvecs, k, ax.data());
  out.matvecs = out.steps + k;
  require_finite(ax.data(), n * k, "A @ v");
  std::vector<double> res(sz(k), 0.0);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < k; ++c) {
      const double d = double(ax[sz(r * k + c)]) - double(eigvals[c]) * double(eigvecs[r * k + c]);
      res[sz(c)] += d * d;
    }
  }
  for (int64_t c = 0; c < k; ++c) residuals[c] = std::sqrt(res[sz(c)]);
  return out;
}

template <typename T>
void dense_matvec(const T* a, int64_t n, const T* x, T* y, int threads) {
  const int64_t t = std::max<int64_t>(
      1, std::min<int64_t>(threads > 0 ? threads : default_num_threads(), n / 64));
  parallel_for(
      n,
      [&](int64_t r0, int64_t r1) {
        blas::gemv(false, r1 - r0, n, T(1), a + r0 * n, n, x, T(0), y + r0);
      },
      static_cast<int>(t));
}

#define HETENSOR_LANCZOS_INSTANTIATE(T)                                                     \
  template LanczosResult lanczos<T>(int64_t, int64_t, int64_t, const BlockOp<T>&, const T*, \
                                    double, int64_t, std::uint64_t, T*, T*, double*);       \
  template void dense_matvec<T>(const T*, int64_t, const T*, T*, int);

HETENSOR_LANCZOS_INSTANTIATE(float)
HETENSOR_LANCZOS_INSTANTIATE(double)

#undef HETENSOR_LANCZOS_INSTANTIATE

}  // namespace hetensor::linalg
