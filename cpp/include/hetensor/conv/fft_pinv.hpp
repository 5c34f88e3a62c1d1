#pragma once
// Per-frequency pseudo-inverse of a multi-channel circular convolution (hetensor.signal.conv2d_pinv).
//
// A circular cross-correlation y_j = sum_k K_jk (*) x_k (c_out x c_in kernels) is, after a 2-D
// real FFT of size (H, W), one small c_out x c_in matrix per frequency f:
// Y[:, f] = A_f X[:, f] with A_f[j][k] = conj(Khat[j][k][f]). Its pseudo-inverse is the
// per-frequency pseudo-inverse, kept in factored form A_f^+ = V_f diag(1/s_f) U_f^H from one
// thin SVD per frequency. Spectra are (batch, channels, F) complex arrays, F = H * (W/2 + 1).

#include <complex>
#include <cstdint>

namespace hetensor::conv {

// Thin SVDs of the F transfer matrices (m = c_out, n = c_in, k = min(m, n)), from the kernel
// spectrum khat (m, n, F). Writes uh (F, k, m) = U_f^H, s (F, k) descending, v (F, n, k) = V_f,
// all row-major. Multithreaded over frequencies.
template <typename R>
void transfer_svd(const std::complex<R>* khat, std::int64_t m, std::int64_t n, std::int64_t F,
                  std::complex<R>* uh, R* s, std::complex<R>* v, int threads = 0);

// x[b][:, f] = V_f diag(sinv_f) U_f^H y[b][:, f] for every image b and frequency f: y (batch, m,
// F) -> x (batch, n, F).
template <typename R>
void apply_pinv(const std::complex<R>* uh, const R* sinv, const std::complex<R>* v, std::int64_t m,
                std::int64_t n, std::int64_t F, const std::complex<R>* y, std::int64_t batch,
                std::complex<R>* x, int threads = 0);

// y[b][:, f] = A_f x[b][:, f]: the forward operator in the frequency domain, x (batch, n, F) ->
// y (batch, m, F).
template <typename R>
void apply_transfer(const std::complex<R>* khat, std::int64_t m, std::int64_t n, std::int64_t F,
                    const std::complex<R>* x, std::int64_t batch, std::complex<R>* y,
                    int threads = 0);

}  // namespace hetensor::conv
