#pragma once
// Per-frequency pseudo-inverse of a multi-channel circular convolution
// (hetensor.signal.conv2d_pinv).
//
// A circular cross-correlation y_j = sum_k K_jk (*) x_k (c_out x c_in kernels) is, after a 2-D
// real FFT of size (H, W), one small c_out x c_in matrix per frequency f:
// Y[:, f] = A_f X[:, f] with A_f[j][k] = conj(Khat[j][k][f]). Its pseudo-inverse is the
// per-frequency pseudo-inverse P_f = A_f^+ (c_in x c_out). Transfer matrices are passed as a
// (F, m, n) array (m = c_out, n = c_in, row-major per frequency), spectra as (batch, channels, F)
// complex arrays, F = H * (W/2 + 1).

#include <complex>
#include <cstdint>

namespace hetensor::conv {

// How transfer_pinv treated the frequencies.
struct PinvStats {
  std::int64_t inverted = 0;   // square, provably above the cut-off: P_f = A_f^-1 by LU
  std::int64_t svd = 0;        // the rest: P_f from a thin SVD with the rcond cut-off
  std::int64_t smax_svds = 0;  // singular-values-only SVDs spent on the global s_max
};

// Moore-Penrose pseudo-inverses P_f (F, n, m) of the transfer matrices a (F, m, n), with
// singular values <= rcond * s_max dropped, s_max = max over all frequencies of the largest
// singular value (global = true: the pseudo-inverse of the whole operator, numpy.linalg.pinv of
// its dense matrix) or of A_f's own (global = false). rank (F) receives the kept count.
//
// A square A_f whose smallest singular value is provably above the cut-off (sigma_min >=
// 1/||A_f^-1||_F, with a factor-2 margin for the rounding of the computed inverse, against the
// upper bound rcond * max ||A_g||_F of the cut-off) is inverted by LU: its pseudo-inverse is its
// inverse. Only the other frequencies (non-square, rank-deficient, near the cut-off, or too
// ill-conditioned to trust the bound) take a full SVD; the exact global s_max is then needed
// and costs singular-values-only SVDs of the frequencies whose ||A_f||_F exceeds the largest
// s_max found so far. Multithreaded over frequencies.
template <typename R>
PinvStats transfer_pinv(const std::complex<R>* a, std::int64_t m, std::int64_t n, std::int64_t F,
                        double rcond, bool global, std::complex<R>* p, std::int64_t* rank,
                        int threads = 0);

// Singular values s (F, min(m, n)), descending, of the transfer matrices a (F, m, n) (LAPACK
// ?gesdd with jobz='N'). Multithreaded over frequencies.
template <typename R>
void transfer_singular_values(const std::complex<R>* a, std::int64_t m, std::int64_t n,
                              std::int64_t F, R* s, int threads = 0);

// y[b][:, f] = mats_f x[b][:, f] for every image b and frequency f, mats (F, rows, cols): x
// (batch, cols, F) -> y (batch, rows, F). The forward operator (mats = A_f) and the
// pseudo-inverse (mats = P_f) in the frequency domain.
template <typename R>
void apply_per_frequency(const std::complex<R>* mats, std::int64_t rows, std::int64_t cols,
                         std::int64_t F, const std::complex<R>* x, std::int64_t batch,
                         std::complex<R>* y, int threads = 0);

}  // namespace hetensor::conv
