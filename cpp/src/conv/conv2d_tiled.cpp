// CPU emulation of the CUDA conv2d kernels: the same grid of blocks, each block's threads run one
// after another, calling the per-tile functions of conv2d_tile.hpp exactly as the kernels do.

#include <algorithm>
#include <vector>

#include "hetensor/common/parallel.hpp"
#include "hetensor/conv/conv2d.hpp"
#include "hetensor/conv/conv2d_tile.hpp"

namespace hetensor::conv {

namespace {

using i64 = std::int64_t;
using namespace tile;  // NOLINT: source file, tile vocabulary

}  // namespace

template <typename T>
void conv2d_forward_tiled(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  p.validate();
  const Geom g = to_geom(p);
  const i64 cg = p.cin_g(), kg = p.cout_g(), taps = p.kh * p.kw;
  const i64 tiles_h = ceil_div(g.oh, kTileH), tiles_w = ceil_div(g.ow, kTileW);
  const i64 kblocks = ceil_div(kg, kTileK);
  // grid (tiles, groups * kblocks, n), as in conv2d_forward_kernel
  parallel_for(p.n * p.groups * kblocks, [&](i64 begin, i64 end) {
    std::vector<T> patch(static_cast<std::size_t>(fwd_patch_h(g) * fwd_patch_w(g)));
    std::vector<T> filt(static_cast<std::size_t>(kTileK * taps));
    std::vector<T> acc(static_cast<std::size_t>(kTileK * kThreads));
    for (i64 item = begin; item < end; ++item) {
      const i64 n = item / (p.groups * kblocks), by = item % (p.groups * kblocks);
      const i64 grp = by / kblocks, k0 = (by % kblocks) * kTileK;
      for (i64 t = 0; t < tiles_h * tiles_w; ++t) {
        i64 oh0 = 0, ow0 = 0;
        tile_origin(t, tiles_w, oh0, ow0);
        std::fill(acc.begin(), acc.end(), T(0));
        for (i64 c = 0; c < cg; ++c) {
          const T* plane = x + (n * p.c_in + grp * cg + c) * p.h * p.w;
          for (int tid = 0; tid < kThreads; ++tid) {
            stage_input_patch(plane, g, oh0, ow0, patch.data(), tid, kThreads);
          }
          for (i64 e = 0; e < kTileK * taps; ++e) {
            const i64 k = k0 + e / taps;
            filt[static_cast<std::size_t>(e)] =
                k < kg ? w[((grp * kg + k) * cg + c) * taps + e % taps] : T(0);
          }
          for (int tid = 0; tid < kThreads; ++tid) {
            for (int kk = 0; kk < kTileK; ++kk) {
              acc[static_cast<std::size_t>(kk * kThreads + tid)] +=
                  tile_point(patch.data(), g, filt.data() + kk * taps, tid / kTileW, tid % kTileW);
            }
          }
        }
        for (int tid = 0; tid < kThreads; ++tid) {
          const i64 oh = oh0 + tid / kTileW, ow = ow0 + tid % kTileW;
          if (oh >= g.oh || ow >= g.ow) continue;
          for (int kk = 0; kk < kTileK && k0 + kk < kg; ++kk) {
            const i64 k = grp * kg + k0 + kk;
            y[((n * p.c_out + k) * g.oh + oh) * g.ow + ow] =
                acc[static_cast<std::size_t>(kk * kThreads + tid)] + (bias ? bias[k] : T(0));
          }
        }
      }
    }
  });
}

template <typename T>
void conv2d_backward_tiled(const Conv2dParams& p, const T* x, const T* w, const T* gy, T* gx, T* gw,
                           T* gb) {
  p.validate();
  const Geom g = to_geom(p);
  const i64 cg = p.cin_g(), kg = p.cout_g(), taps = p.kh * p.kw;
  if (gb != nullptr) {  // grid (c_out): strided per-thread sums, then a tree reduction
    std::vector<T> vals(kThreads);
    for (i64 k = 0; k < p.c_out; ++k) {
      std::fill(vals.begin(), vals.end(), T(0));
      for (int tid = 0; tid < kThreads; ++tid) {
        for (i64 e = tid; e < p.n * g.oh * g.ow; e += kThreads) {
          const i64 n = e / (g.oh * g.ow);
          vals[static_cast<std::size_t>(tid)] +=
              gy[(n * p.c_out + k) * g.oh * g.ow + e % (g.oh * g.ow)];
        }
      }
      for (int stride = kThreads / 2; stride > 0; stride /= 2) {
        for (int tid = 0; tid < kThreads; ++tid) reduce_level(vals.data(), stride, tid);
      }
      gb[k] = vals[0];
    }
  }
  if (gx != nullptr) {  // grid (input tiles, c_in, n)
    const i64 tiles_h = ceil_div(p.h, kTileH), tiles_w = ceil_div(p.w, kTileW);
    parallel_for(p.n * p.c_in, [&](i64 begin, i64 end) {
      std::vector<T> patch(static_cast<std::size_t>(bwd_patch_h(g) * bwd_patch_w(g)));
      std::vector<T> acc(kThreads);
      for (i64 item = begin; item < end; ++item) {
        const i64 n = item / p.c_in, c = item % p.c_in, grp = c / cg;
        for (i64 t = 0; t < tiles_h * tiles_w; ++t) {
          i64 ih0 = 0, iw0 = 0;
          tile_origin(t, tiles_w, ih0, iw0);
          std::fill(acc.begin(), acc.end(), T(0));
          for (i64 kk = 0; kk < kg; ++kk) {
            const i64 k = grp * kg + kk;
            const T* plane = gy + (n * p.c_out + k) * g.oh * g.ow;
            for (int tid = 0; tid < kThreads; ++tid) {
              stage_grad_patch(plane, g, ih0, iw0, patch.data(), tid, kThreads);
            }
            const T* f = w + (k * cg + c % cg) * taps;
            for (int tid = 0; tid < kThreads; ++tid) {
              acc[static_cast<std::size_t>(tid)] +=
                  grad_input_point(patch.data(), g, f, ih0, iw0, tid / kTileW, tid % kTileW);
            }
          }
          for (int tid = 0; tid < kThreads; ++tid) {
            const i64 ih = ih0 + tid / kTileW, iw = iw0 + tid % kTileW;
            if (ih < p.h && iw < p.w)
              gx[((n * p.c_in + c) * p.h + ih) * p.w + iw] = acc[static_cast<std::size_t>(tid)];
          }
        }
      }
    });
  }
  if (gw != nullptr) {  // grid (tap blocks, cg, c_out)
    const i64 qblocks = ceil_div(taps, kTileQ);
    const i64 tiles_h = ceil_div(g.oh, kTileH), tiles_w = ceil_div(g.ow, kTileW);
    parallel_for(p.c_out * cg * qblocks, [&](i64 begin, i64 end) {
      std::vector<T> patch(static_cast<std::size_t>(fwd_patch_h(g) * fwd_patch_w(g)));
      std::vector<T> acc(static_cast<std::size_t>(kThreads * kTileQ));
      std::vector<T> vals(kThreads);
      for (i64 item = begin; item < end; ++item) {
        const i64 k = item / (cg * qblocks), cl = (item / qblocks) % cg,
                  q0 = (item % qblocks) * kTileQ;
        const int nq = static_cast<int>(std::min<i64>(kTileQ, taps - q0));
        const i64 grp = k / kg;
        std::fill(acc.begin(), acc.end(), T(0));
        for (i64 n = 0; n < p.n; ++n) {
          const T* plane = x + (n * p.c_in + grp * cg + cl) * p.h * p.w;
          const T* gplane = gy + (n * p.c_out + k) * g.oh * g.ow;
          for (i64 t = 0; t < tiles_h * tiles_w; ++t) {
            i64 oh0 = 0, ow0 = 0;
            tile_origin(t, tiles_w, oh0, ow0);
            for (int tid = 0; tid < kThreads; ++tid) {
              stage_input_patch(plane, g, oh0, ow0, patch.data(), tid, kThreads);
            }
            for (int tid = 0; tid < kThreads; ++tid) {
              const i64 oh = oh0 + tid / kTileW, ow = ow0 + tid % kTileW;
              if (oh >= g.oh || ow >= g.ow) continue;
              grad_weight_point(patch.data(), g, gplane[oh * g.ow + ow], tid / kTileW, tid % kTileW,
                                q0, nq, acc.data() + tid * kTileQ);
            }
          }
        }
        for (int j = 0; j < nq; ++j) {
          for (int tid = 0; tid < kThreads; ++tid)
            vals[static_cast<std::size_t>(tid)] = acc[static_cast<std::size_t>(tid * kTileQ + j)];
          for (int stride = kThreads / 2; stride > 0; stride /= 2) {
            for (int tid = 0; tid < kThreads; ++tid) reduce_level(vals.data(), stride, tid);
          }
          gw[(k * cg + cl) * taps + q0 + j] = vals[0];
        }
      }
    });
  }
}

template void conv2d_forward_tiled<float>(const Conv2dParams&, const float*, const float*,
                                          const float*, float*);
template void conv2d_forward_tiled<double>(const Conv2dParams&, const double*, const double*,
                                           const double*, double*);
template void conv2d_backward_tiled<float>(const Conv2dParams&, const float*, const float*,
                                           const float*, float*, float*, float*);
template void conv2d_backward_tiled<double>(const Conv2dParams&, const double*, const double*,
                                            const double*, double*, double*, double*);

}  // namespace hetensor::conv
