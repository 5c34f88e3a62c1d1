#pragma once
// Per-tile arithmetic of the tiled conv2d kernels, shared by the CUDA kernels (cpp/cuda/conv2d.cu)
// and their CPU emulation (cpp/src/conv/conv2d_tiled.cpp, which the tests run): every function
// here is HETENSOR_HD and works on plain pointers, so both builds execute the same code.
//
// Forward: a block computes a kTileH x kTileW tile of output pixels for kTileK output channels of
// one image. For each input channel of the group it stages the input patch the tile reads
// (zero padded) and the kTileK filters in shared memory; each thread accumulates its pixel.
// Backward input: the same with the roles swapped: a block owns an input tile of one channel,
// stages the grad_output patch that reaches it, per output channel. Backward weight: a block
// owns one (output channel, input channel) pair and up to kTileQ taps; threads sweep output
// pixels tile by tile, accumulating per-tap partial sums in registers, then reduce.

#include <cstdint>

#include "hetensor/common/hd.hpp"
#include "hetensor/conv/conv2d.hpp"

namespace hetensor::conv::tile {

constexpr int kTileH = 8;   // output (or input) rows per tile
constexpr int kTileW = 16;  // columns per tile; one thread per pixel: 128 threads
constexpr int kThreads = kTileH * kTileW;
constexpr int kTileK = 8;   // output channels per forward block
constexpr int kTileQ = 16;  // kernel taps per weight-gradient block

// Geometry in a form device code can use (Conv2dParams' member functions are host-only).
struct Geom {
  std::int64_t n, c_in, h, w, c_out, kh, kw;
  std::int64_t sh, sw, pt, pl, dh, dw, groups;
  std::int64_t oh, ow;  // output size
};

inline Geom to_geom(const Conv2dParams& p) {
  return Geom{p.n,        p.c_in,    p.h,        p.w,     p.c_out, p.kh,     p.kw,      p.stride_h,
              p.stride_w, p.pad_top, p.pad_left, p.dil_h, p.dil_w, p.groups, p.out_h(), p.out_w()};
}

HETENSOR_HD inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}
HETENSOR_HD inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// Top-left (row, column) of tile `t` in a grid `tiles_w` tiles wide.
HETENSOR_HD inline void tile_origin(std::int64_t t, std::int64_t tiles_w, std::int64_t& r0,
                                    std::int64_t& c0) {
  r0 = (t / tiles_w) * kTileH;
  c0 = (t % tiles_w) * kTileW;
}

// ---- forward --------------------------------------------------------------------------------

// Rows and columns of the input patch an output tile reads.
HETENSOR_HD inline std::int64_t fwd_patch_h(const Geom& g) {
  return (kTileH - 1) * g.sh + g.dh * (g.kh - 1) + 1;
}
HETENSOR_HD inline std::int64_t fwd_patch_w(const Geom& g) {
  return (kTileW - 1) * g.sw + g.dw * (g.kw - 1) + 1;
}

// Thread `tid` of `nthreads` copies its share of the input patch whose top-left output pixel is
// (oh0, ow0) from one channel plane, writing zeros where the patch leaves the input (padding).
template <typename T>
HETENSOR_HD inline void stage_input_patch(const T* plane, const Geom& g, std::int64_t oh0,
                                          std::int64_t ow0, T* patch, int tid, int nthreads) {
  const std::int64_t ph = fwd_patch_h(g), pw = fwd_patch_w(g);
  const std::int64_t ih0 = oh0 * g.sh - g.pt, iw0 = ow0 * g.sw - g.pl;
  for (std::int64_t e = tid; e < ph * pw; e += nthreads) {
    const std::int64_t ih = ih0 + e / pw, iw = iw0 + e % pw;
    patch[e] = (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) ? plane[ih * g.w + iw] : T(0);
  }
}

// Contribution of one input channel to output pixel (ty, tx) of the tile: the filter taps f
// (kh x kw) against the staged patch.
template <typename T>
HETENSOR_HD inline T tile_point(const T* patch, const Geom& g, const T* f, int ty, int tx) {
  const std::int64_t pw = fwd_patch_w(g);
  T acc = T(0);
  for (std::int64_t r = 0; r < g.kh; ++r) {
    const T* row = patch + (ty * g.sh + r * g.dh) * pw + tx * g.sw;
    for (std::int64_t s = 0; s < g.kw; ++s) acc += row[s * g.dw] * f[r * g.kw + s];
  }
  return acc;
}

// ---- backward: input gradient -----------------------------------------------------------------

// First grad_output row (column) that reaches input row (column) i0 of a tile.
HETENSOR_HD inline std::int64_t bwd_first(std::int64_t i0, std::int64_t pad, std::int64_t dil,
                                          std::int64_t k, std::int64_t stride) {
  return ceil_div(i0 + pad - dil * (k - 1), stride);
}
// Patch of grad_output rows/columns an input tile needs (an upper bound, same for all tiles).
HETENSOR_HD inline std::int64_t bwd_patch_h(const Geom& g) {
  return (kTileH - 1 + g.dh * (g.kh - 1)) / g.sh + 2;
}
HETENSOR_HD inline std::int64_t bwd_patch_w(const Geom& g) {
  return (kTileW - 1 + g.dw * (g.kw - 1)) / g.sw + 2;
}

// Stages the grad_output patch of one output channel plane that reaches the input tile with
// top-left input pixel (ih0, iw0); zeros outside the output.
template <typename T>
HETENSOR_HD inline void stage_grad_patch(const T* gy_plane, const Geom& g, std::int64_t ih0,
                                         std::int64_t iw0, T* patch, int tid, int nthreads) {
  const std::int64_t ph = bwd_patch_h(g), pw = bwd_patch_w(g);
  const std::int64_t oh0 = bwd_first(ih0, g.pt, g.dh, g.kh, g.sh);
  const std::int64_t ow0 = bwd_first(iw0, g.pl, g.dw, g.kw, g.sw);
  for (std::int64_t e = tid; e < ph * pw; e += nthreads) {
    const std::int64_t oh = oh0 + e / pw, ow = ow0 + e % pw;
    patch[e] = (oh >= 0 && oh < g.oh && ow >= 0 && ow < g.ow) ? gy_plane[oh * g.ow + ow] : T(0);
  }
}

// Contribution of one output channel (filter f for this input channel) to the gradient of input
// pixel (ih, iw) = (ih0 + ty, iw0 + tx): the taps whose stride lattice hits the pixel.
template <typename T>
HETENSOR_HD inline T grad_input_point(const T* patch, const Geom& g, const T* f, std::int64_t ih0,
                                      std::int64_t iw0, int ty, int tx) {
  const std::int64_t pw = bwd_patch_w(g);
  const std::int64_t oh0 = bwd_first(ih0, g.pt, g.dh, g.kh, g.sh);
  const std::int64_t ow0 = bwd_first(iw0, g.pl, g.dw, g.kw, g.sw);
  const std::int64_t ih = ih0 + ty, iw = iw0 + tx;
  T acc = T(0);
  for (std::int64_t r = 0; r < g.kh; ++r) {
    const std::int64_t nh = ih + g.pt - r * g.dh;
    if (nh - floor_div(nh, g.sh) * g.sh != 0) continue;
    const std::int64_t prow = floor_div(nh, g.sh) - oh0;
    for (std::int64_t s = 0; s < g.kw; ++s) {
      const std::int64_t nw = iw + g.pl - s * g.dw;
      if (nw - floor_div(nw, g.sw) * g.sw != 0) continue;
      const std::int64_t pcol = floor_div(nw, g.sw) - ow0;
      acc += patch[prow * pw + pcol] * f[r * g.kw + s];
    }
  }
  return acc;
}

// ---- backward: weight gradient ----------------------------------------------------------------

// Adds grad_output value gyv of output pixel (ty, tx) of a tile times the input it saw through
// taps q0 .. q0 + nq - 1 (q = r * kw + s) to acc[0 .. nq), reading the staged forward patch.
template <typename T>
HETENSOR_HD inline void grad_weight_point(const T* patch, const Geom& g, T gyv, int ty, int tx,
                                          std::int64_t q0, int nq, T* acc) {
  const std::int64_t pw = fwd_patch_w(g);
  for (int j = 0; j < nq; ++j) {
    const std::int64_t q = q0 + j, r = q / g.kw, s = q % g.kw;
    acc[j] += gyv * patch[(ty * g.sh + r * g.dh) * pw + tx * g.sw + s * g.dw];
  }
}

// Tree reduction of vals[0 .. n) (n a power of two) by `nthreads` cooperating threads; each call
// is one level (stride), so the CUDA kernel can __syncthreads() between levels.
template <typename T>
HETENSOR_HD inline void reduce_level(T* vals, int stride, int tid) {
  if (tid < stride) vals[tid] += vals[tid + stride];
}

}  // namespace hetensor::conv::tile
