#pragma once
// Block power iteration (subspace iteration) for the k dominant eigenpairs of a symmetric
// operator: V <- orth(A V), with a Rayleigh-Ritz step on every iterate; or its
// Chebyshev-filtered form V <- orth(p_m(A) V), p_m the degree-m Chebyshev polynomial that is
// at most 1 in magnitude on [-c, c], c = |theta_{k+1}| the largest guard Ritz value (an
// estimate of the unwanted spectrum's extent), and grows fastest outside it, for both signs: one
// filter does the work of many power steps when |lambda_k| / |lambda_{p+1}| is close to 1.
//
// Orthonormalisation is CholeskyQR2 (Gram matrix by GEMM, p x p Cholesky, triangular solve by
// GEMM, twice): all of its O(n p^2) work is BLAS-3 and it makes two passes over V, where a
// Householder QR of a tall-skinny block is BLAS-2 bound. CholeskyQR2 is accurate while the
// block's condition number stays below ~eps^-1/2; when a Cholesky pivot says the block is
// numerically rank deficient (e.g. A has rank < p) it falls back to Householder QR (LAPACK
// geqrf/orgqr), which is unconditionally stable.
//
// Also here: thick-restart Lanczos (lanczos(), implemented in lanczos.cpp), the method that
// needs the fewest passes over a sparse or matrix-free A, and the threaded operator products
// both use (dense block kernel, dense GEMV, CSR).

#include <cstdint>
#include <functional>

namespace hetensor::linalg {

// W = A V for the n x p row-major blocks V and W (the operator of the iteration).
template <typename T>
using MatMat = std::function<void(const T* v, T* w)>;

// A compressed-sparse-row matrix with n_rows rows (column indices in [0, n_cols)).
template <typename T, typename I>
struct CsrView {
  std::int64_t n_rows = 0;
  std::int64_t n_cols = 0;
  const I* indptr = nullptr;   // n_rows + 1 offsets
  const I* indices = nullptr;  // column of each stored value
  const T* data = nullptr;     // stored values
};

struct PowerIterationResult {
  std::int64_t iterations = 0;  // Rayleigh-Ritz steps (outer iterations)
  std::int64_t matmats = 0;     // block products A V made (= iterations for the power method)
  bool converged = false;
  double max_change = 0.0;     // largest column change at the last iteration
  std::int64_t fallbacks = 0;  // orthonormalisations that needed Householder QR
};

// Runs the iteration. n: order of A; k: eigenpairs wanted; p (k <= p <= n): block size (p > k
// oversamples, which speeds convergence to rate |lambda_{p+1} / lambda_k|); v: n x p start
// block (any full-rank block; overwritten). filter_degree m: 1 is the plain power step; m >= 2
// applies the scaled Chebyshev filter of degree m between Rayleigh-Ritz steps (m matmats per
// step, the first one shared with Rayleigh-Ritz; the first step is a power step, to get Ritz
// values; with p == k, no guard Ritz value estimates the unwanted spectrum, so the steps stay
// plain power steps). Stops when
// the largest change of any of the first k Ritz vectors (signs aligned) is below tol, or when
// max_iter matmats are spent (the last filter is shortened to fit). Outputs: eigvals (k,
// largest |lambda| first), eigvecs (n x k row-major; each column's largest-|.| entry is
// positive) and residuals (k, ||A x - lambda x||). Throws std::invalid_argument when V^T A V
// shows A is not symmetric, hetensor::NonFiniteError when A V is not finite.
template <typename T>
PowerIterationResult power_iteration(std::int64_t n, std::int64_t k, std::int64_t p,
                                     const MatMat<T>& matmat, T* v, double tol,
                                     std::int64_t max_iter, T* eigvals, T* eigvecs,
                                     double* residuals, std::int64_t filter_degree = 1);

// W = A V for a dense row-major n x n matrix A and row-major V, W (n x p): W's rows split over
// up to `threads` threads (<= 0: default), V packed once for a register-tiled kernel
// (nn::step_gemm) that streams A once; no OpenBLAS call, so no packing of A and no pool.
template <typename T>
void dense_matmat(const T* a, std::int64_t n, const T* v, std::int64_t p, T* w, int threads = 0);

// W = A V for row-major n x p blocks V and W of any width p >= 1 (p = 1 is a matvec).
template <typename T>
using BlockOp = std::function<void(const T* v, std::int64_t p, T* w)>;

struct LanczosResult {
  std::int64_t steps = 0;     // Lanczos steps: single-vector operator applications
  std::int64_t restarts = 0;  // thick restarts (the injection of the check vector included)
  std::int64_t matvecs = 0;   // steps + k (the explicit residuals at the end)
  bool converged = false;
  double max_estimate = 0.0;    // largest |beta s_i| / max(|theta_i|, floor) at the end
  std::int64_t basis_size = 0;  // m
};

// Thick-restart Lanczos (Wu & Simon 2000) for the k largest-|lambda| eigenpairs of a
// symmetric operator. The basis Q (up to m vectors of length n, rows of a matrix) is kept
// orthonormal by classical Gram-Schmidt against all of it (BLAS GEMV over row slices on our
// threads), repeated when the first pass removed more than 30% of the vector's norm (DGKS:
// "twice is enough"); T = Q^T A Q is filled from the Gram-Schmidt coefficients. When the
// basis holds m vectors, T's eigenpairs (theta_i, s_i) give Ritz pairs with residual norms
// |beta_m s_{m,i}|; done when every one of the k wanted ones (largest |theta|) is at most
// tol * max(|theta_i|, eps^(2/3) ||T||); otherwise the basis restarts from the
// keep = k + (m - k) / 2 Ritz vectors of largest |theta| plus the last Lanczos vector. A
// single Krylov sequence holds one vector per eigenvalue, so an exactly repeated eigenvalue's
// other copies would be missed: on convergence the k Ritz vectors are kept and the basis is
// continued from a random vector orthogonal to them (a check cycle of at least 10 new
// vectors; a missing eigenvalue shows up as a new wanted Ritz value there), repeated until a
// check brings nothing new (one more copy of each repeated eigenvalue per check). When the Krylov
// space becomes invariant (beta ~ 0, e.g. k close to n) it continues from a random orthogonal
// vector. max_steps bounds the Lanczos steps. v0: start vector (n, any non-zero). Outputs as
// power_iteration: eigvals (k, largest |lambda| first), eigvecs (n x k row-major, each
// column's largest-|.| entry positive), residuals (k, ||A x - lambda x|| from one block
// product A X). Throws std::invalid_argument when A proves non-symmetric (the Gram-Schmidt
// coefficient q_{j-1}^T A q_j differs from beta_{j-1} = q_j^T A q_{j-1} by more than
// 10 sqrt(eps) ||T||), hetensor::NonFiniteError when A q is not finite.
template <typename T>
LanczosResult lanczos(std::int64_t n, std::int64_t k, std::int64_t m, const BlockOp<T>& op,
                      const T* v0, double tol, std::int64_t max_steps, std::uint64_t seed,
                      T* eigvals, T* eigvecs, double* residuals);

// y = A x for a dense row-major n x n matrix: row blocks on up to `threads` threads (<= 0:
// default), one single-threaded GEMV each.
template <typename T>
void dense_matvec(const T* a, std::int64_t n, const T* x, T* y, int threads = 0);

// Y = A X for a CSR matrix A (n_rows x n_cols) and row-major X (n_cols x p), Y (n_rows x p),
// on up to `threads` threads (<= 0: default).
template <typename T, typename I>
void csr_matmat(const CsrView<T, I>& a, const T* x, std::int64_t p, T* y, int threads = 0);

// Largest |A_ij - A_ji| of a dense row-major n x n matrix (blocked, cache friendly). Throws
// hetensor::NonFiniteError when A holds NaN or infinity.
template <typename T>
double dense_max_asymmetry(const T* a, std::int64_t n);

// Randomized symmetry test of a square CSR matrix: with four fixed pseudo-random probe vectors
// u, v it returns the largest |u^T A v - v^T A u| / (|u| |A v| + |v| |A u|), which is rounding
// noise for a symmetric A and O(1) * |A - A^T| / |A| otherwise (one CSR pass instead of a
// transpose). Throws hetensor::NonFiniteError on NaN or infinity.
template <typename T, typename I>
double csr_asymmetry_probe(const CsrView<T, I>& a, int threads = 0);

}  // namespace hetensor::linalg
