#pragma once
// 2-D convolution (cross-correlation, PyTorch semantics) on NCHW arrays: forward and backward on
// the CPU. Winograd F(2x2,3x3) for 3x3 stride-1 undilated kernels, cache-blocked im2col + BLAS
// GEMM for everything else; both multithreaded over (image, group, block of output pixels).

#include <cstdint>

namespace hetensor::conv {

// Geometry of one convolution. Padding may be asymmetric (PyTorch's padding="same" with an even
// effective kernel puts the extra row/column at the bottom/right).
struct Conv2dParams {
  std::int64_t n = 1, c_in = 1, h = 1, w = 1;  // input (N, C_in, H, W)
  std::int64_t c_out = 1, kh = 1, kw = 1;      // weight (C_out, C_in / groups, kh, kw)
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  std::int64_t dil_h = 1, dil_w = 1;
  std::int64_t groups = 1;

  std::int64_t out_h() const {
    return (h + pad_top + pad_bottom - dil_h * (kh - 1) - 1) / stride_h + 1;
  }
  std::int64_t out_w() const {
    return (w + pad_left + pad_right - dil_w * (kw - 1) - 1) / stride_w + 1;
  }
  std::int64_t cin_g() const { return c_in / groups; }
  std::int64_t cout_g() const { return c_out / groups; }

  // Throws std::invalid_argument (PyTorch-like wording) for inconsistent geometry.
  void validate() const;
};

enum class Algorithm { automatic, gemm, winograd };

// Whether Winograd F(2x2,3x3) applies (3x3 kernel, stride 1, dilation 1).
bool winograd_applicable(const Conv2dParams& p);

// The algorithm `automatic` resolves to for this geometry.
Algorithm choose_algorithm(const Conv2dParams& p);

// y (N, C_out, out_h, out_w) = conv(x, w) + bias (bias may be null). threads <= 0: default.
template <typename T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y,
                    Algorithm algo = Algorithm::automatic, int threads = 0);

// Gradients of sum(gy * conv(x, w) + bias) with respect to x, w and bias. Any output pointer may
// be null to skip that gradient. gx has x's shape, gw w's, gb (C_out).
template <typename T>
void conv2d_backward(const Conv2dParams& p, const T* x, const T* w, const T* gy, T* gx, T* gw,
                     T* gb, int threads = 0);

// The CUDA kernels' tiled algorithm (conv2d_tile.hpp) run on the CPU, block by block and thread
// by thread: slow, but the same per-tile code, so the CPU tests check the GPU's arithmetic.
template <typename T>
void conv2d_forward_tiled(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void conv2d_backward_tiled(const Conv2dParams& p, const T* x, const T* w, const T* gy, T* gx, T* gw,
                           T* gb);

// Index of the first NaN or infinity in a[0, n), or -1.
template <typename T>
std::int64_t first_non_finite(const T* a, std::int64_t n);

}  // namespace hetensor::conv
