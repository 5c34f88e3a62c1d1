#include "hetensor/conv/conv2d.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"
#include "hetensor/common/simd.hpp"  // the Winograd transforms and im2col are HETENSOR_CLONES
#include "threading.hpp"

namespace hetensor::conv {

namespace {

using i64 = std::int64_t;

std::string pair(i64 a, i64 b) { return "(" + std::to_string(a) + ", " + std::to_string(b) + ")"; }

using detail::run_items;

// ----------------------------------------------------------------------------------------------
// im2col / col2im over a block of output pixels [p0, p0 + nb) of one image and channel group.
// col is (cin_g * kh * kw) x nb, row (c, r, s) holding x[c][oh*sh - pt + r*dh][ow*sw - pl + s*dw].

// Plane is const T (gather into col) or T (scatter-add col into the planes).
template <typename T, typename Plane, bool kScatter>
HETENSOR_INLINE void im2col_impl(const Conv2dParams& p, Plane* __restrict plane_base, i64 p0,
                                 i64 nb, T* __restrict col) {
  const i64 ow_n = p.out_w(), H = p.h, W = p.w, cg = p.cin_g();
  for (i64 c = 0; c < cg; ++c) {
    Plane* plane = plane_base + c * H * W;
    for (i64 r = 0; r < p.kh; ++r) {
      for (i64 s = 0; s < p.kw; ++s) {
        T* row = col + ((c * p.kh + r) * p.kw + s) * nb;
        i64 j = 0, idx = p0;
        while (j < nb) {
          const i64 oh = idx / ow_n, ow = idx % ow_n;
          const i64 seg = std::min(nb - j, ow_n - ow);
          const i64 ih = oh * p.stride_h - p.pad_top + r * p.dil_h;
          T* out = row + j;
          if (ih >= 0 && ih < H) {
            Plane* src = plane + ih * W;
            const i64 iw0 = ow * p.stride_w - p.pad_left + s * p.dil_w;
            // valid t: 0 <= iw0 + t*sw < W
            i64 lo = iw0 >= 0 ? 0 : (-iw0 + p.stride_w - 1) / p.stride_w;
            i64 hi = iw0 >= W ? 0 : (W - 1 - iw0) / p.stride_w + 1;
            lo = std::min(lo, seg);
            hi = std::max(lo, std::min(hi, seg));
            if constexpr (kScatter) {
              for (i64 t = lo; t < hi; ++t) src[iw0 + t * p.stride_w] += out[t];
            } else {
              for (i64 t = 0; t < lo; ++t) out[t] = T(0);
              if (p.stride_w == 1) {
                for (i64 t = lo; t < hi; ++t) out[t] = src[iw0 + t];
              } else {
                for (i64 t = lo; t < hi; ++t) out[t] = src[iw0 + t * p.stride_w];
              }
              for (i64 t = hi; t < seg; ++t) out[t] = T(0);
            }
          } else if constexpr (!kScatter) {
            for (i64 t = 0; t < seg; ++t) out[t] = T(0);
          }
          j += seg;
          idx += seg;
        }
      }
    }
  }
}

HETENSOR_CLONES void im2col(const Conv2dParams& p, const float* x, i64 p0, i64 nb, float* col) {
  im2col_impl<float, const float, false>(p, x, p0, nb, col);
}
HETENSOR_CLONES void im2col(const Conv2dParams& p, const double* x, i64 p0, i64 nb, double* col) {
  im2col_impl<double, const double, false>(p, x, p0, nb, col);
}
HETENSOR_CLONES void col2im_add(const Conv2dParams& p, float* gx, i64 p0, i64 nb, float* col) {
  im2col_impl<float, float, true>(p, gx, p0, nb, col);
}
HETENSOR_CLONES void col2im_add(const Conv2dParams& p, double* gx, i64 p0, i64 nb, double* col) {
  im2col_impl<double, double, true>(p, gx, p0, nb, col);
}

bool is_pointwise(const Conv2dParams& p) {
  return p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
         p.pad_bottom == 0 && p.pad_left == 0 && p.pad_right == 0;
}

// Output pixels per GEMM block: the col block stays within ~256 KiB (L2), at least 32 pixels.
template <typename T>
i64 column_block(const Conv2dParams& p) {
  const i64 ckk = p.cin_g() * p.kh * p.kw;
  const i64 hw = p.out_h() * p.out_w();
  i64 nb = (i64{256} * 1024) / (ckk * static_cast<i64>(sizeof(T)));
  nb = std::max<i64>(32, nb / 16 * 16);
  return std::min(nb, hw);
}

template <typename T>
void add_bias_rows(T* y, i64 rows, i64 cols, i64 ld, const T* bias) {
  for (i64 k = 0; k < rows; ++k) {
    const T b = bias[k];
    T* row = y + k * ld;
    for (i64 j = 0; j < cols; ++j) row[j] += b;
  }
}

template <typename T>
void forward_gemm(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y, int threads) {
  const i64 hw_out = p.out_h() * p.out_w(), hw_in = p.h * p.w;
  const i64 cg = p.cin_g(), kg = p.cout_g(), ckk = cg * p.kh * p.kw;
  const i64 nb = column_block<T>(p);
  const i64 nblk = (hw_out + nb - 1) / nb;
  const bool pointwise = is_pointwise(p);
  run_items(p.n * p.groups * nblk, threads, [&](i64 begin, i64 end) {
    std::vector<T> col(pointwise ? 0 : static_cast<std::size_t>(ckk * nb));
    for (i64 item = begin; item < end; ++item) {
      const i64 blk = item % nblk, g = (item / nblk) % p.groups, n = item / (nblk * p.groups);
      const i64 p0 = blk * nb, nbb = std::min(nb, hw_out - p0);
      const T* xg = x + (n * p.c_in + g * cg) * hw_in;
      T* yg = y + (n * p.c_out + g * kg) * hw_out + p0;
      const T* wg = w + g * kg * ckk;
      if (pointwise) {
        blas::gemm(false, false, kg, nbb, ckk, T(1), wg, ckk, xg + p0, hw_in, T(0), yg, hw_out);
      } else {
        im2col(p, xg, p0, nbb, col.data());
        blas::gemm(false, false, kg, nbb, ckk, T(1), wg, ckk, col.data(), nbb, T(0), yg, hw_out);
      }
      if (bias != nullptr) add_bias_rows(yg, kg, nbb, hw_out, bias + g * kg);
    }
  });
}

// ----------------------------------------------------------------------------------------------
// Winograd F(2x2, 3x3) (Lavin & Gray 2016): each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A
// over a 4x4 input tile d. The 16 elementwise products become 16 GEMMs (C_out x C_in) x
// (C_in x tiles), 2.25x fewer multiplications than direct convolution.

// U[g][xi][k][c] = (G g G^T)[xi] for each 3x3 filter g.
template <typename T>
void winograd_weights(const Conv2dParams& p, const T* w, T* u) {
  const i64 cg = p.cin_g(), kg = p.cout_g();
  for (i64 g = 0; g < p.groups; ++g) {
    for (i64 k = 0; k < kg; ++k) {
      for (i64 c = 0; c < cg; ++c) {
        const T* f = w + ((g * kg + k) * cg + c) * 9;
        T t[4][3];
        for (int j = 0; j < 3; ++j) {
          t[0][j] = f[j];
          t[1][j] = (f[j] + f[3 + j] + f[6 + j]) / 2;
          t[2][j] = (f[j] - f[3 + j] + f[6 + j]) / 2;
          t[3][j] = f[6 + j];
        }
        for (int i = 0; i < 4; ++i) {
          const T v[4] = {t[i][0], (t[i][0] + t[i][1] + t[i][2]) / 2,
                          (t[i][0] - t[i][1] + t[i][2]) / 2, t[i][2]};
          for (int j = 0; j < 4; ++j) u[((g * 16 + i * 4 + j) * kg + k) * cg + c] = v[j];
        }
      }
    }
  }
}

// B^T d B for the tw tiles of one tile row, from 4 zero-padded input rows r (stride L); result
// point xi of tile tx goes to v[xi * xs + tx]. t (16 x tw) holds the row transforms: two plain
// loops over tx that the compiler vectorizes.
template <typename T>
HETENSOR_INLINE void winograd_input_row_impl(const T* __restrict r, i64 L, i64 tw, T* __restrict v,
                                             i64 xs, T* __restrict t) {
  for (i64 i = 0; i < 4; ++i) {
    const T* q = r + i * L;
    T* t0 = t + (4 * i + 0) * tw;
    T* t1 = t + (4 * i + 1) * tw;
    T* t2 = t + (4 * i + 2) * tw;
    T* t3 = t + (4 * i + 3) * tw;
    for (i64 tx = 0; tx < tw; ++tx) {
      const T d0 = q[2 * tx], d1 = q[2 * tx + 1], d2 = q[2 * tx + 2], d3 = q[2 * tx + 3];
      t0[tx] = d0 - d2;
      t1[tx] = d1 + d2;
      t2[tx] = d2 - d1;
      t3[tx] = d1 - d3;
    }
  }
  for (i64 j = 0; j < 4; ++j) {
    const T* a0 = t + j * tw;
    const T* a1 = t + (4 + j) * tw;
    const T* a2 = t + (8 + j) * tw;
    const T* a3 = t + (12 + j) * tw;
    T* v0 = v + j * xs;
    T* v1 = v + (4 + j) * xs;
    T* v2 = v + (8 + j) * xs;
    T* v3 = v + (12 + j) * xs;
    for (i64 tx = 0; tx < tw; ++tx) {
      v0[tx] = a0[tx] - a2[tx];
      v1[tx] = a1[tx] + a2[tx];
      v2[tx] = a2[tx] - a1[tx];
      v3[tx] = a1[tx] - a3[tx];
    }
  }
}

HETENSOR_CLONES void winograd_input_row(const float* r, i64 L, i64 tw, float* v, i64 xs, float* t) {
  winograd_input_row_impl(r, L, tw, v, xs, t);
}
HETENSOR_CLONES void winograd_input_row(const double* r, i64 L, i64 tw, double* v, i64 xs,
                                        double* t) {
  winograd_input_row_impl(r, L, tw, v, xs, t);
}

// A^T m A for the tw tiles of one tile row (m[xi * xs + tx]) into two output rows o0, o1 (length
// 2 tw), plus bias.
template <typename T>
HETENSOR_INLINE void winograd_output_row_impl(const T* __restrict m, i64 xs, i64 tw, T bias,
                                              T* __restrict o0, T* __restrict o1) {
  for (i64 tx = 0; tx < tw; ++tx) {
    T a[4][2];
    for (int i = 0; i < 4; ++i) {
      const T m0 = m[(i * 4 + 0) * xs + tx], m1 = m[(i * 4 + 1) * xs + tx];
      const T m2 = m[(i * 4 + 2) * xs + tx], m3 = m[(i * 4 + 3) * xs + tx];
      a[i][0] = m0 + m1 + m2;
      a[i][1] = m1 - m2 - m3;
    }
    for (int j = 0; j < 2; ++j) {
      o0[2 * tx + j] = a[0][j] + a[1][j] + a[2][j] + bias;
      o1[2 * tx + j] = a[1][j] - a[2][j] - a[3][j] + bias;
    }
  }
}

HETENSOR_CLONES void winograd_output_row(const float* m, i64 xs, i64 tw, float bias, float* o0,
                                         float* o1) {
  winograd_output_row_impl(m, xs, tw, bias, o0, o1);
}
HETENSOR_CLONES void winograd_output_row(const double* m, i64 xs, i64 tw, double bias, double* o0,
                                         double* o1) {
  winograd_output_row_impl(m, xs, tw, bias, o0, o1);
}

template <typename T>
void forward_winograd(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y,
                      int threads) {
  const i64 cg = p.cin_g(), kg = p.cout_g(), H = p.h, W = p.w;
  const i64 oh = p.out_h(), ow = p.out_w();
  const i64 th = (oh + 1) / 2, tw = (ow + 1) / 2;
  const i64 L = 2 * tw + 2;  // padded input row covering every tile of a tile row
  std::vector<T> u(static_cast<std::size_t>(p.groups * 16 * kg * cg));
  winograd_weights(p, w, u.data());

  // Tile rows per block: V (16 x cg x P) and M (16 x kg x P) stay within ~640 KiB.
  const i64 target = (i64{640} * 1024) / (16 * (cg + kg) * static_cast<i64>(sizeof(T)));
  const i64 rows = std::clamp<i64>(target / tw, 1, th);
  const i64 P = rows * tw;
  const i64 nblk = (th + rows - 1) / rows;

  run_items(p.n * p.groups * nblk, threads, [&](i64 begin, i64 end) {
    std::vector<T> v(static_cast<std::size_t>(16 * cg * P));
    std::vector<T> m(static_cast<std::size_t>(16 * kg * P));
    std::vector<T> rbuf(static_cast<std::size_t>(4 * L));
    std::vector<T> obuf(static_cast<std::size_t>(4 * tw));
    std::vector<T> tbuf(static_cast<std::size_t>(16 * tw));
    for (i64 item = begin; item < end; ++item) {
      const i64 blk = item % nblk, g = (item / nblk) % p.groups, n = item / (nblk * p.groups);
      const i64 ty0 = blk * rows, nrows = std::min(rows, th - ty0), pb = nrows * tw;
      // Input transform: V[xi][c][tile].
      for (i64 c = 0; c < cg; ++c) {
        const T* plane = x + ((n * p.c_in) + g * cg + c) * H * W;
        for (i64 rr = 0; rr < nrows; ++rr) {
          const i64 ih0 = 2 * (ty0 + rr) - p.pad_top;
          for (i64 i = 0; i < 4; ++i) {
            T* dst = rbuf.data() + i * L;
            const i64 ih = ih0 + i;
            if (ih < 0 || ih >= H) {
              std::fill(dst, dst + L, T(0));
              continue;
            }
            // dst[j] = x[ih][j - pad_left]
            const i64 lo = std::min<i64>(L, std::max<i64>(0, p.pad_left));
            const i64 hi = std::max<i64>(lo, std::min<i64>(L, W + p.pad_left));
            std::fill(dst, dst + lo, T(0));
            std::memcpy(dst + lo, plane + ih * W + (lo - p.pad_left),
                        static_cast<std::size_t>(hi - lo) * sizeof(T));
            std::fill(dst + hi, dst + L, T(0));
          }
          winograd_input_row(rbuf.data(), L, tw, v.data() + c * P + rr * tw, cg * P, tbuf.data());
        }
      }
      // 16 GEMMs: M[xi] (kg x pb) = U[g][xi] (kg x cg) . V[xi] (cg x pb).
      for (i64 xi = 0; xi < 16; ++xi) {
        blas::gemm(false, false, kg, pb, cg, T(1), u.data() + (g * 16 + xi) * kg * cg, cg,
                   v.data() + xi * cg * P, P, T(0), m.data() + xi * kg * P, P);
      }
      // Output transform.
      for (i64 k = 0; k < kg; ++k) {
        T* out = y + (n * p.c_out + g * kg + k) * oh * ow;
        const T b = bias != nullptr ? bias[g * kg + k] : T(0);
        for (i64 rr = 0; rr < nrows; ++rr) {
          const i64 oy = 2 * (ty0 + rr);
          T* o0 = obuf.data();
          T* o1 = obuf.data() + 2 * tw;
          winograd_output_row(m.data() + k * P + rr * tw, kg * P, tw, b, o0, o1);
          std::memcpy(out + oy * ow, o0, static_cast<std::size_t>(ow) * sizeof(T));
          if (oy + 1 < oh)
            std::memcpy(out + (oy + 1) * ow, o1, static_cast<std::size_t>(ow) * sizeof(T));
        }
      }
    }
  });
}

// ----------------------------------------------------------------------------------------------
// Backward: bias = sums of gy; weight = sum over images and pixel blocks of gy_blk . col^T
// (per-thread partial sums, added under a lock); input = col2im(W^T gy_blk), one item per
// (image, group) so no two threads scatter into the same region.

template <typename T>
void backward_bias(const Conv2dParams& p, const T* gy, T* gb, int threads) {
  const i64 hw = p.out_h() * p.out_w();
  parallel_for(
      p.c_out,
      [&](i64 begin, i64 end) {
        for (i64 k = begin; k < end; ++k) {
          double acc = 0.0;
          for (i64 n = 0; n < p.n; ++n) {
            const T* row = gy + (n * p.c_out + k) * hw;
            double part = 0.0;
            for (i64 j = 0; j < hw; ++j) part += static_cast<double>(row[j]);
            acc += part;
          }
          gb[k] = static_cast<T>(acc);
        }
      },
      threads);
}

template <typename T>
void backward_weight(const Conv2dParams& p, const T* x, const T* gy, T* gw, int threads) {
  const i64 hw_out = p.out_h() * p.out_w(), hw_in = p.h * p.w;
  const i64 cg = p.cin_g(), kg = p.cout_g(), ckk = cg * p.kh * p.kw;
  const i64 nb = column_block<T>(p);
  const i64 nblk = (hw_out + nb - 1) / nb;
  const bool pointwise = is_pointwise(p);
  const i64 wsize = p.c_out * ckk;
  std::fill(gw, gw + wsize, T(0));
  std::mutex lock;
  run_items(p.n * p.groups * nblk, threads, [&](i64 begin, i64 end) {
    std::vector<T> col(pointwise ? 0 : static_cast<std::size_t>(ckk * nb));
    std::vector<T> acc(static_cast<std::size_t>(wsize), T(0));
    for (i64 item = begin; item < end; ++item) {
      const i64 blk = item % nblk, g = (item / nblk) % p.groups, n = item / (nblk * p.groups);
      const i64 p0 = blk * nb, nbb = std::min(nb, hw_out - p0);
      const T* xg = x + (n * p.c_in + g * cg) * hw_in;
      const T* gyg = gy + (n * p.c_out + g * kg) * hw_out + p0;
      T* accg = acc.data() + g * kg * ckk;
      if (pointwise) {
        blas::gemm(false, true, kg, ckk, nbb, T(1), gyg, hw_out, xg + p0, hw_in, T(1), accg, ckk);
      } else {
        im2col(p, xg, p0, nbb, col.data());
        blas::gemm(false, true, kg, ckk, nbb, T(1), gyg, hw_out, col.data(), nbb, T(1), accg, ckk);
      }
    }
    std::lock_guard<std::mutex> hold(lock);
    for (i64 i = 0; i < wsize; ++i) gw[i] += acc[static_cast<std::size_t>(i)];
  });
}

template <typename T>
void backward_input(const Conv2dParams& p, const T* w, const T* gy, T* gx, int threads) {
  const i64 hw_out = p.out_h() * p.out_w(), hw_in = p.h * p.w;
  const i64 cg = p.cin_g(), kg = p.cout_g(), ckk = cg * p.kh * p.kw;
  const i64 nb = column_block<T>(p);
  const bool pointwise = is_pointwise(p);
  run_items(p.n * p.groups, threads, [&](i64 begin, i64 end) {
    std::vector<T> col(pointwise ? 0 : static_cast<std::size_t>(ckk * nb));
    for (i64 item = begin; item < end; ++item) {
      const i64 g = item % p.groups, n = item / p.groups;
      T* gxg = gx + (n * p.c_in + g * cg) * hw_in;
      const T* wg = w + g * kg * ckk;
      if (!pointwise) std::fill(gxg, gxg + cg * hw_in, T(0));
      for (i64 p0 = 0; p0 < hw_out; p0 += nb) {
        const i64 nbb = std::min(nb, hw_out - p0);
        const T* gyg = gy + (n * p.c_out + g * kg) * hw_out + p0;
        if (pointwise) {
          blas::gemm(true, false, cg, nbb, kg, T(1), wg, ckk, gyg, hw_out, T(0), gxg + p0, hw_in);
        } else {
          blas::gemm(true, false, ckk, nbb, kg, T(1), wg, ckk, gyg, hw_out, T(0), col.data(), nbb);
          col2im_add(p, gxg, p0, nbb, col.data());
        }
      }
    }
  });
}

}  // namespace

void Conv2dParams::validate() const {
  auto fail = [](const std::string& msg) { throw std::invalid_argument(msg); };
  if (n < 0) fail("batch size must be >= 0, got " + std::to_string(n));
  if (c_in < 1 || h < 1 || w < 1) {
    fail("input channels and spatial size must be >= 1, got C=" + std::to_string(c_in) +
         ", H=" + std::to_string(h) + ", W=" + std::to_string(w));
  }
  if (c_out < 1 || kh < 1 || kw < 1) {
    fail("out_channels and kernel size must be >= 1, got " + std::to_string(c_out) + " and " +
         pair(kh, kw));
  }
  if (groups < 1) fail("groups must be a positive integer, got " + std::to_string(groups));
  if (c_in % groups != 0) {
    fail("in_channels (" + std::to_string(c_in) + ") must be divisible by groups (" +
         std::to_string(groups) + ")");
  }
  if (c_out % groups != 0) {
    fail("out_channels (" + std::to_string(c_out) + ") must be divisible by groups (" +
         std::to_string(groups) + ")");
  }
  if (stride_h < 1 || stride_w < 1)
    fail("stride must be positive, got " + pair(stride_h, stride_w));
  if (dil_h < 1 || dil_w < 1) fail("dilation must be positive, got " + pair(dil_h, dil_w));
  if (pad_top < 0 || pad_bottom < 0 || pad_left < 0 || pad_right < 0)
    fail("padding must be non-negative");
  const i64 ph = h + pad_top + pad_bottom, pw = w + pad_left + pad_right;
  const i64 eh = dil_h * (kh - 1) + 1, ew = dil_w * (kw - 1) + 1;
  if (eh > ph || ew > pw) {
    fail("calculated padded input size per channel: " + pair(ph, pw) + "; effective kernel size: " +
         pair(eh, ew) + "; the kernel cannot be larger than the padded input");
  }
}

bool winograd_applicable(const Conv2dParams& p) {
  return p.kh == 3 && p.kw == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 &&
         p.dil_w == 1;
}

Algorithm choose_algorithm(const Conv2dParams& p) {
  // Winograd pays off once the per-point GEMMs are real matrix products.
  if (winograd_applicable(p) && p.cin_g() >= 8 && p.cout_g() >= 8 && p.out_h() * p.out_w() >= 16) {
    return Algorithm::winograd;
  }
  return Algorithm::gemm;
}

template <typename T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y,
                    Algorithm algo, int threads) {
  p.validate();
  if (p.n == 0) return;
  if (algo == Algorithm::automatic) algo = choose_algorithm(p);
  if (algo == Algorithm::winograd) {
    if (!winograd_applicable(p)) {
      throw std::invalid_argument(
          "algorithm='winograd' needs a 3x3 kernel with stride 1 and dilation 1");
    }
    forward_winograd(p, x, w, bias, y, threads);
  } else {
    forward_gemm(p, x, w, bias, y, threads);
  }
}

template <typename T>
void conv2d_backward(const Conv2dParams& p, const T* x, const T* w, const T* gy, T* gx, T* gw,
                     T* gb, int threads) {
  p.validate();
  if (p.n == 0) {
    if (gw != nullptr) std::fill(gw, gw + p.c_out * p.cin_g() * p.kh * p.kw, T(0));
    if (gb != nullptr) std::fill(gb, gb + p.c_out, T(0));
    return;
  }
  if (gb != nullptr) backward_bias(p, gy, gb, threads);
  if (gw != nullptr) backward_weight(p, x, gy, gw, threads);
  if (gx != nullptr) backward_input(p, w, gy, gx, threads);
}

template <typename T>
std::int64_t first_non_finite(const T* a, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i])) return i;
  }
  return -1;
}

template void conv2d_forward<float>(const Conv2dParams&, const float*, const float*, const float*,
                                    float*, Algorithm, int);
template void conv2d_forward<double>(const Conv2dParams&, const double*, const double*,
                                     const double*, double*, Algorithm, int);
template void conv2d_backward<float>(const Conv2dParams&, const float*, const float*, const float*,
                                     float*, float*, float*, int);
template void conv2d_backward<double>(const Conv2dParams&, const double*, const double*,
                                      const double*, double*, double*, double*, int);
template std::int64_t first_non_finite<float>(const float*, std::int64_t);
template std::int64_t first_non_finite<double>(const double*, std::int64_t);

}  // namespace hetensor::conv
