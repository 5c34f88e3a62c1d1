#include "hetensor/nn/recurrent.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"
#include "hetensor/common/simd.hpp"
#include "hetensor/nn/cell_math.hpp"
#include "hetensor/nn/step_gemm.hpp"

namespace hetensor::nn {

using std::int64_t;

std::int64_t RecurrentConfig::gates() const {
  switch (kind) {
    case CellKind::kRnnTanh:
    case CellKind::kRnnRelu:
      return 1;
    case CellKind::kLstm:
      return coupled ? 3 : 4;
    case CellKind::kGru:
      return 3;
  }
  return 0;
}

std::int64_t RecurrentConfig::peephole_rows() const {
  if (!peephole) return 0;
  return coupled ? 2 : 3;
}

void RecurrentConfig::validate() const {
  if (input_size < 1 || hidden_size < 1 || num_layers < 1) {
    throw std::invalid_argument("input_size, hidden_size and num_layers must be >= 1");
  }
  if (num_directions != 1 && num_directions != 2) {
    throw std::invalid_argument("num_directions must be 1 or 2");
  }
  if ((peephole || coupled) && kind != CellKind::kLstm) {
    throw std::invalid_argument("peepholes and coupled gates exist for LSTM only");
  }
}

namespace {

template <typename T>
std::size_t sz(T v) {
  return static_cast<std::size_t>(v);
}

// Shapes of one layer and direction, and where its data lives.
struct Dims {
  int64_t steps, batch, hidden, gh, ldo, in_size;
  int dir;
  int64_t step(int64_t s) const { return dir == 0 ? s : steps - 1 - s; }
  int64_t prev(int64_t t) const { return dir == 0 ? t - 1 : t + 1; }
};

// ---------------------------------------------------------------- element-wise cell passes

// Each pass is a HETENSOR_CLONES function (AVX-512 / AVX2 / baseline clone) whose inner loop
// over the hidden units runs cell_math's branch-free functions on whole vectors (16 floats per
// AVX-512 instruction); HETENSOR_IVDEP: the arrays of one row do not overlap. The forward
// passes add `bias` (the summed input and hidden biases of each gate; for GRU the input biases
// only) to the pre-activations here rather than in a pass of their own.
template <typename T>
HETENSOR_CLONES void rnn_forward_rows(const Dims& d, bool relu, const T* bias, const T* g, T* h) {
  for (int64_t b = 0; b < d.batch; ++b) {
    const T* __restrict gb = g + b * d.gh;
    const T* __restrict bb = bias;
    T* __restrict hb = h + b * d.ldo;
    if (relu) {
      HETENSOR_IVDEP
      for (int64_t j = 0; j < d.hidden; ++j) {
        const T v = gb[j] + bb[j];
        hb[j] = v > T(0) ? v : T(0);
      }
    } else {
      HETENSOR_IVDEP
      for (int64_t j = 0; j < d.hidden; ++j) hb[j] = math::tanh(gb[j] + bb[j]);
    }
  }
}

template <typename T, bool kCoupled>
HETENSOR_CLONES void lstm_forward_rows(const Dims& d, const T* bias, T* g, const T* cp, int64_t ldc,
                                       const T* pi, const T* pf, const T* po, T* c, T* h) {
  const int64_t H = d.hidden;
  const T* __restrict bi = kCoupled ? nullptr : bias;
  const T* __restrict bf = kCoupled ? bias : bias + H;
  const T* __restrict bg = bf + H;
  const T* __restrict bo = bg + H;
  for (int64_t b = 0; b < d.batch; ++b) {
    T* __restrict gb = g + b * d.gh;
    T* __restrict gi = kCoupled ? nullptr : gb;
    T* __restrict gf = kCoupled ? gb : gb + H;
    T* __restrict gg = gf + H;
    T* __restrict go = gg + H;
    const T* __restrict cpb = cp + b * ldc;
    T* __restrict cb = c + b * H;
    T* __restrict hb = h + b * d.ldo;
    HETENSOR_IVDEP
    for (int64_t j = 0; j < H; ++j) {
      const T cpj = cpb[j];
      const T f = math::sigmoid(gf[j] + bf[j] + pf[j] * cpj);
      T i;
      if constexpr (kCoupled) {
        i = T(1) - f;
      } else {
        i = math::sigmoid(gi[j] + bi[j] + pi[j] * cpj);
        gi[j] = i;
      }
      const T gv = math::tanh(gg[j] + bg[j]);
      const T cj = f * cpj + i * gv;
      const T o = math::sigmoid(go[j] + bo[j] + po[j] * cj);
      gf[j] = f;
      gg[j] = gv;
      go[j] = o;
      cb[j] = cj;
      hb[j] = o * math::tanh(cj);
    }
  }
}

template <typename T>
HETENSOR_CLONES void gru_forward_rows(const Dims& d, const T* bih, T* g, const T* gh, const T* bhh,
                                      const T* hp, int64_t ldh, T* hn_out, T* h) {
  const int64_t H = d.hidden;
  for (int64_t b = 0; b < d.batch; ++b) {
    T* __restrict gr = g + b * d.gh;
    T* __restrict gz = gr + H;
    T* __restrict gn = gz + H;
    const T* __restrict hr = gh + b * d.gh;
    const T* __restrict hz = hr + H;
    const T* __restrict hn = hz + H;
    const T* __restrict hpb = hp + b * ldh;
    T* __restrict hno = hn_out + b * H;
    T* __restrict hb = h + b * d.ldo;
    HETENSOR_IVDEP
    for (int64_t j = 0; j < H; ++j) {
      const T r = math::sigmoid(gr[j] + bih[j] + hr[j] + bhh[j]);
      const T z = math::sigmoid(gz[j] + bih[H + j] + hz[j] + bhh[H + j]);
      const T hnj = hn[j] + bhh[2 * H + j];
      const T n = math::tanh(gn[j] + bih[2 * H + j] + r * hnj);
      gr[j] = r;
      gz[j] = z;
      gn[j] = n;
      hno[j] = hnj;
      hb[j] = (T(1) - z) * n + z * hpb[j];
    }
  }
}

template <typename T>
HETENSOR_CLONES void rnn_backward_rows(const Dims& d, bool relu, const T* dout, const T* h,
                                       const T* dh, T* g) {
  for (int64_t b = 0; b < d.batch; ++b) {
    const T* __restrict db = dout + b * d.ldo;
    const T* __restrict hb = h + b * d.ldo;
    const T* __restrict dhb = dh + b * d.hidden;
    T* __restrict gb = g + b * d.gh;
    HETENSOR_IVDEP
    for (int64_t j = 0; j < d.hidden; ++j) {
      const T dht = dhb[j] + db[j];
      gb[j] = relu ? (hb[j] > T(0) ? dht : T(0)) : dht * (T(1) - hb[j] * hb[j]);
    }
  }
}

template <typename T, bool kCoupled>
HETENSOR_CLONES void lstm_backward_rows(const Dims& d, const T* dout, const T* c, const T* cp,
                                        int64_t ldc, const T* pi, const T* pf, const T* po,
                                        const T* dh, T* dc, T* g, T* gpi, T* gpf, T* gpo) {
  const int64_t H = d.hidden;
  for (int64_t b = 0; b < d.batch; ++b) {
    const T* __restrict db = dout + b * d.ldo;
    const T* __restrict cb = c + b * H;
    const T* __restrict cpb = cp + b * ldc;
    const T* __restrict dhb = dh + b * H;
    T* __restrict dcb = dc + b * H;
    T* __restrict gb = g + b * d.gh;
    T* __restrict gi = kCoupled ? nullptr : gb;
    T* __restrict gf = kCoupled ? gb : gb + H;
    T* __restrict gg = gf + H;
    T* __restrict go = gg + H;
    HETENSOR_IVDEP
    for (int64_t j = 0; j < H; ++j) {
      const T dht = dhb[j] + db[j];
      const T cj = cb[j], cpj = cpb[j];
      const T f = gf[j], gv = gg[j], o = go[j];
      const T i = kCoupled ? T(1) - f : gi[j];
      const T tc = math::tanh(cj);
      const T dpo = dht * tc * o * (T(1) - o);
      const T dct = dcb[j] + dht * o * (T(1) - tc * tc) + dpo * po[j];
      const T dpg = dct * i * (T(1) - gv * gv);
      T dpf, dpi = T(0);
      if constexpr (kCoupled) {
        dpf = dct * (cpj - gv) * f * (T(1) - f);
      } else {
        dpf = dct * cpj * f * (T(1) - f);
        dpi = dct * gv * i * (T(1) - i);
        gi[j] = dpi;
        gpi[j] += dpi * cpj;
      }
      dcb[j] = dct * f + dpi * pi[j] + dpf * pf[j];
      gpf[j] += dpf * cpj;
      gpo[j] += dpo * cj;
      gf[j] = dpf;
      gg[j] = dpg;
      go[j] = dpo;
    }
  }
}

template <typename T>
HETENSOR_CLONES void gru_backward_rows(const Dims& d, const T* dout, const T* hp, int64_t ldh,
                                       T* dh, T* g, T* hn, T* scratch) {
  const int64_t H = d.hidden;
  for (int64_t b = 0; b < d.batch; ++b) {
    const T* __restrict db = dout + b * d.ldo;
    const T* __restrict hpb = hp + b * ldh;
    T* __restrict dhb = dh + b * H;
    T* __restrict gr = g + b * d.gh;
    T* __restrict gz = gr + H;
    T* __restrict gn = gz + H;
    T* __restrict hnb = hn + b * H;
    T* __restrict sr = scratch + b * d.gh;
    T* __restrict sz_ = sr + H;
    T* __restrict sn = sz_ + H;
    HETENSOR_IVDEP
    for (int64_t j = 0; j < H; ++j) {
      const T dht = dhb[j] + db[j];
      const T r = gr[j], z = gz[j], n = gn[j];
      const T dnp = dht * (T(1) - z) * (T(1) - n * n);
      const T drp = dnp * hnb[j] * r * (T(1) - r);
      const T dzp = dht * (hpb[j] - n) * z * (T(1) - z);
      gr[j] = drp;
      gz[j] = dzp;
      gn[j] = dnp;
      hnb[j] = dnp * r;
      sr[j] = drp;
      sz_[j] = dzp;
      sn[j] = dnp * r;
      dhb[j] = dht * z;
    }
  }
}

// ---------------------------------------------------------------- GEMM helpers

// blas::gemm with C's rows split over the kernel threads, each block one single-threaded
// OpenBLAS call (the kernels hold a blas::ScopedSingleThread, see recurrent_forward).
template <typename T>
void gemm_rows(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
               const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const int64_t min_rows = 32;
  const int threads = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(default_num_threads(), m / min_rows)));
  parallel_for(
      m,
      [&](int64_t m0, int64_t m1) {
        blas::gemm(trans_a, trans_b, m1 - m0, n, k, T(1), trans_a ? a + m0 : a + m0 * lda, lda, b,
                   ldb, beta, c + m0 * ldc, ldc);
      },
      threads);
}

// dst (width x H) = sum over steps of dG_t^T h_{t-1}: the steps whose previous state is a
// layer output are one GEMM, the first step (previous state h0) a second one.
template <typename T>
void hprev_gemm(const Dims& d, const T* dg, int64_t ldg, int64_t width, const T* out_dir,
                const T* h0, T* dst) {
  const int64_t B = d.batch, H = d.hidden;
  T beta = T(0);
  if (d.steps > 1) {
    const T* g = d.dir == 0 ? dg + B * ldg : dg;
    const T* hp = d.dir == 0 ? out_dir : out_dir + B * d.ldo;
    gemm_rows(true, false, width, H, (d.steps - 1) * B, g, ldg, hp, d.ldo, T(0), dst, H);
    beta = T(1);
  }
  const int64_t t0 = d.dir == 0 ? 0 : d.steps - 1;
  gemm_rows(true, false, width, H, B, dg + t0 * B * ldg, ldg, h0, H, beta, dst, H);
}

// acc (width) += the sum of `rows` rows of src (row stride ld).
template <typename T>
void add_rows(int64_t rows, int64_t width, const T* src, int64_t ld, T* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* __restrict s = src + r * ld;
    T* __restrict a = acc;
    for (int64_t j = 0; j < width; ++j) a[j] += s[j];
  }
}

// ---------------------------------------------------------------- batch split of the steps

// The batch rows of a sequence are independent through the whole recurrence, so the step loop
// runs on `threads` contiguous row blocks, each on its own thread from the first step to the
// last: no synchronization between steps, each step's small GEMM and its element-wise pass on
// the same core's cache. Blocks get at least kMinRowsPerThread rows.
constexpr int64_t kMinRowsPerThread = 4;

int recurrence_threads(int64_t batch) {
  return static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(default_num_threads(), batch / kMinRowsPerThread)));
}

// Runs body(block, row_begin, row_end) for each of `threads` row blocks of [0, batch), one per
// thread. The step products run on these threads through step_gemm (no OpenBLAS call, whose
// threaded path would serialize concurrent calls and hand each one to its own pool).
template <typename Fn>
void for_row_blocks(int64_t batch, int threads, Fn&& body) {
  auto rows = [&](int64_t k) { return k * batch / threads; };
  if (threads <= 1) {
    body(int64_t{0}, int64_t{0}, batch);
    return;
  }
  parallel_for(
      threads,
      [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) body(k, rows(k), rows(k + 1));
      },
      threads);
}

// ---------------------------------------------------------------- one layer, one direction

template <typename T>
struct Peepholes {
  std::vector<T> zeros;
  const T *pi, *pf, *po;
  Peepholes(const RecurrentConfig& cfg, const T* p) : zeros(sz(cfg.hidden_size), T(0)) {
    const int64_t H = cfg.hidden_size;
    pi = pf = po = zeros.data();
    if (p != nullptr) {
      if (cfg.coupled) {
        pf = p;
        po = p + H;
      } else {
        pi = p;
        pf = p + H;
        po = p + 2 * H;
      }
    }
  }
};

template <typename T>
void forward_direction(const RecurrentConfig& cfg, const Dims& d, const T* in,
                       const CellWeights<T>& w, const T* h0, const T* c0, T* out, T* gates,
                       T* aux) {
  const int64_t B = d.batch, H = d.hidden, GH = d.gh, rows = d.steps * B;
  const bool gru = cfg.kind == CellKind::kGru;
  // The input projection of all steps: one GEMM.
  gemm_rows(false, true, rows, GH, d.in_size, in, d.in_size, w.w_ih, d.in_size, T(0), gates, GH);
  // Bias added in the element-wise passes: b_ih + b_hh, for GRU b_ih (b_hh acts inside n).
  std::vector<T> bsum(sz(GH), T(0));
  if (cfg.bias) {
    for (int64_t j = 0; j < GH; ++j) bsum[sz(j)] = w.b_ih[j] + (gru ? T(0) : w.b_hh[j]);
  }
  const Peepholes<T> peep(cfg, w.peephole);
  std::vector<T> gh_step(gru ? sz(B * GH) : 0);
  std::vector<T> zero_bias(gru && !cfg.bias ? sz(GH) : 0, T(0));
  const T* bhh = gru ? (cfg.bias ? w.b_hh : zero_bias.data()) : nullptr;
  const PackedWeights<T> w_hh_t(H, GH, w.w_hh, H, true);  // W_hh^T for h' W_hh^T
  T* out_dir = out + d.dir * H;
  for_row_blocks(B, recurrence_threads(B), [&](int64_t, int64_t b0, int64_t b1) {
    Dims db = d;  // the row block: element-wise passes loop over its rows
    db.batch = b1 - b0;
    const int64_t nb = b1 - b0;
    for (int64_t s = 0; s < d.steps; ++s) {
      const int64_t t = d.step(s);
      const T* hp = s == 0 ? h0 + b0 * H : out_dir + (d.prev(t) * B + b0) * d.ldo;
      const int64_t ldh = s == 0 ? H : d.ldo;
      T* g = gates + (t * B + b0) * GH;
      T* h = out_dir + (t * B + b0) * d.ldo;
      switch (cfg.kind) {
        case CellKind::kRnnTanh:
        case CellKind::kRnnRelu:
          step_gemm(nb, hp, ldh, w_hh_t, true, g, GH);
          rnn_forward_rows(db, cfg.kind == CellKind::kRnnRelu, bsum.data(), g, h);
          break;
        case CellKind::kLstm: {
          step_gemm(nb, hp, ldh, w_hh_t, true, g, GH);
          const T* cp = s == 0 ? c0 + b0 * H : aux + (d.prev(t) * B + b0) * H;
          T* c = aux + (t * B + b0) * H;
          if (cfg.coupled) {
            lstm_forward_rows<T, true>(db, bsum.data(), g, cp, H, peep.pi, peep.pf, peep.po, c, h);
          } else {
            lstm_forward_rows<T, false>(db, bsum.data(), g, cp, H, peep.pi, peep.pf, peep.po, c, h);
          }
          break;
        }
        case CellKind::kGru: {
          T* ghs = gh_step.data() + b0 * GH;
          step_gemm(nb, hp, ldh, w_hh_t, false, ghs, GH);
          gru_forward_rows(db, bsum.data(), g, ghs, bhh, hp, ldh, aux + (t * B + b0) * H, h);
          break;
        }
      }
    }
  });
}

template <typename T>
void backward_direction(const RecurrentConfig& cfg, const Dims& d, const T* in,
                        const CellWeights<T>& w, const T* h0, const T* c0, const T* out, T* gates,
                        T* aux, const T* d_out, const T* dh_n, const T* dc_n, T* d_in, T beta_in,
                        T* dh0, T* dc0, const CellGrads<T>& gr) {
  const int64_t B = d.batch, H = d.hidden, GH = d.gh, rows = d.steps * B;
  const bool lstm = cfg.kind == CellKind::kLstm, gru = cfg.kind == CellKind::kGru;
  std::vector<T> dh(sz(B * H), T(0)), dc(lstm ? sz(B * H) : 0, T(0));
  if (dh_n != nullptr) std::copy(dh_n, dh_n + B * H, dh.begin());
  if (lstm && dc_n != nullptr) std::copy(dc_n, dc_n + B * H, dc.begin());
  std::vector<T> scratch(gru ? sz(B * GH) : 0);
  const Peepholes<T> peep(cfg, w.peephole);
  const T* out_dir = out + d.dir * H;
  const T* dout_dir = d_out + d.dir * H;

  // Per row block: sums over its rows and steps of the gate gradients (bias gradient), of
  // GRU's dn * r (b_hn gradient) and the peephole gradients (i, f, o); added up after.
  const int threads = recurrence_threads(B);
  const PackedWeights<T> w_hh(GH, H, w.w_hh, H, false);  // for dG W_hh
  const int64_t acc_width = GH + H + 3 * H;
  std::vector<T> acc(sz(threads * acc_width), T(0));

  for_row_blocks(B, threads, [&](int64_t k, int64_t b0, int64_t b1) {
    Dims db = d;
    db.batch = b1 - b0;
    const int64_t nb = b1 - b0;
    T* acc_g = acc.data() + k * acc_width;
    T* acc_n = acc_g + GH;
    T* gp = acc_n + H;
    T* dhb = dh.data() + b0 * H;
    for (int64_t s = d.steps - 1; s >= 0; --s) {
      const int64_t t = d.step(s);
      const T* hp = s == 0 ? h0 + b0 * H : out_dir + (d.prev(t) * B + b0) * d.ldo;
      const int64_t ldh = s == 0 ? H : d.ldo;
      T* g = gates + (t * B + b0) * GH;
      const T* dout_t = dout_dir + (t * B + b0) * d.ldo;
      switch (cfg.kind) {
        case CellKind::kRnnTanh:
        case CellKind::kRnnRelu:
          rnn_backward_rows(db, cfg.kind == CellKind::kRnnRelu, dout_t,
                            out_dir + (t * B + b0) * d.ldo, dhb, g);
          step_gemm(nb, g, GH, w_hh, false, dhb, H);
          break;
        case CellKind::kLstm: {
          const T* cp = s == 0 ? c0 + b0 * H : aux + (d.prev(t) * B + b0) * H;
          const T* c = aux + (t * B + b0) * H;
          T* dcb = dc.data() + b0 * H;
          if (cfg.coupled) {
            lstm_backward_rows<T, true>(db, dout_t, c, cp, H, peep.pi, peep.pf, peep.po, dhb, dcb,
                                        g, gp, gp + H, gp + 2 * H);
          } else {
            lstm_backward_rows<T, false>(db, dout_t, c, cp, H, peep.pi, peep.pf, peep.po, dhb, dcb,
                                         g, gp, gp + H, gp + 2 * H);
          }
          step_gemm(nb, g, GH, w_hh, false, dhb, H);
          break;
        }
        case CellKind::kGru: {
          T* an = aux + (t * B + b0) * H;
          T* sc = scratch.data() + b0 * GH;
          gru_backward_rows(db, dout_t, hp, ldh, dhb, g, an, sc);
          step_gemm(nb, sc, GH, w_hh, true, dhb, H);
          if (cfg.bias) add_rows(nb, H, an, H, acc_n);
          break;
        }
      }
      if (cfg.bias) add_rows(nb, GH, g, GH, acc_g);
    }
  });
  for (int k = 1; k < threads; ++k) {
    const T* src = acc.data() + k * acc_width;
    for (int64_t j = 0; j < acc_width; ++j) acc[sz(j)] += src[j];
  }
  std::copy(dh.begin(), dh.end(), dh0);
  if (lstm) std::copy(dc.begin(), dc.end(), dc0);

  // Weight gradients: one GEMM each over all steps.
  gemm_rows(true, false, GH, d.in_size, rows, gates, GH, in, d.in_size, T(0), gr.w_ih, d.in_size);
  gemm_rows(false, false, rows, d.in_size, GH, gates, GH, w.w_ih, d.in_size, beta_in, d_in,
            d.in_size);
  if (gru) {
    hprev_gemm(d, gates, GH, 2 * H, out_dir, h0, gr.w_hh);
    hprev_gemm(d, aux, H, H, out_dir, h0, gr.w_hh + 2 * H * H);
  } else {
    hprev_gemm(d, gates, GH, GH, out_dir, h0, gr.w_hh);
  }
  if (cfg.bias) {
    std::copy(acc.begin(), acc.begin() + GH, gr.b_ih);
    if (gru) {
      std::copy(gr.b_ih, gr.b_ih + 2 * H, gr.b_hh);
      std::copy(acc.begin() + GH, acc.begin() + GH + H, gr.b_hh + 2 * H);
    } else {
      std::copy(gr.b_ih, gr.b_ih + GH, gr.b_hh);
    }
  }
  if (cfg.peephole) {
    const auto gp = acc.begin() + GH + H;
    if (cfg.coupled) {
      std::copy(gp + H, gp + 3 * H, gr.peephole);
    } else {
      std::copy(gp, gp + 3 * H, gr.peephole);
    }
  }
}

}  // namespace

template <typename T>
void recurrent_forward(const RecurrentConfig& cfg, int64_t seq_len, int64_t batch, const T* x,
                       const T* h0, const T* c0, const std::vector<CellWeights<T>>& weights,
                       T* output, T* h_n, T* c_n, RecurrentTape<T>& tape) {
  cfg.validate();
  if (seq_len < 1 || batch < 1) throw std::invalid_argument("empty sequence or batch");
  const int64_t L = cfg.num_layers, D = cfg.num_directions, H = cfg.hidden_size;
  const int64_t GH = cfg.gates() * H, BH = batch * H, state = L * D * BH;
  if (static_cast<int64_t>(weights.size()) != L * D) {
    throw std::invalid_argument("expected " + std::to_string(L * D) + " weight sets, got " +
                                std::to_string(weights.size()));
  }
  // All parallelism is ours (batch-row blocks in the step loops, row blocks of the big GEMMs):
  // OpenBLAS's own pool would serialize concurrent calls and spin on the cores meanwhile.
  const blas::ScopedSingleThread single_threaded_blas;
  tape.cfg = cfg;
  tape.seq_len = seq_len;
  tape.batch = batch;
  tape.consumed = false;
  tape.h0.assign(sz(state), T(0));
  if (h0 != nullptr) std::copy(h0, h0 + state, tape.h0.begin());
  tape.c0.assign(cfg.has_cell() ? sz(state) : 0, T(0));
  if (cfg.has_cell() && c0 != nullptr) std::copy(c0, c0 + state, tape.c0.begin());
  tape.outputs.resize(sz(L));
  tape.gates.resize(sz(L * D));
  tape.aux.resize(sz(L * D));
  const bool needs_aux = cfg.kind == CellKind::kLstm || cfg.kind == CellKind::kGru;
  for (int64_t l = 0; l < L; ++l) {
    tape.outputs[sz(l)].resize(sz(seq_len * batch * D * H));
    const T* in = l == 0 ? x : tape.outputs[sz(l - 1)].data();
    for (int dir = 0; dir < D; ++dir) {
      const int64_t idx = l * D + dir;
      tape.gates[sz(idx)].resize(sz(seq_len * batch * GH));
      tape.aux[sz(idx)].resize(needs_aux ? sz(seq_len * BH) : 0);
      const Dims d{seq_len, batch, H, GH, D * H, cfg.layer_input_size(l), dir};
      forward_direction(cfg, d, in, weights[sz(idx)], tape.h0.data() + idx * BH,
                        cfg.has_cell() ? tape.c0.data() + idx * BH : nullptr,
                        tape.outputs[sz(l)].data(), tape.gates[sz(idx)].data(),
                        tape.aux[sz(idx)].data());
      // Final states: the last step processed in this direction.
      const int64_t t_last = dir == 0 ? seq_len - 1 : 0;
      const T* src = tape.outputs[sz(l)].data() + t_last * batch * D * H + dir * H;
      for (int64_t b = 0; b < batch; ++b) {
        std::copy(src + b * D * H, src + b * D * H + H, h_n + idx * BH + b * H);
      }
      if (cfg.has_cell()) {
        const T* c = tape.aux[sz(idx)].data() + t_last * BH;
        std::copy(c, c + BH, c_n + idx * BH);
      }
    }
  }
  const std::vector<T>& top = tape.outputs[sz(L - 1)];
  std::copy(top.begin(), top.end(), output);
}

template <typename T>
void recurrent_backward(RecurrentTape<T>& tape, const T* x,
                        const std::vector<CellWeights<T>>& weights, const T* d_output,
                        const T* d_h_n, const T* d_c_n, T* d_x, T* d_h0, T* d_c0,
                        const std::vector<CellGrads<T>>& grads) {
  if (tape.consumed) {
    throw std::logic_error(
        "backward already ran for this forward pass (its saved activations are consumed); "
        "run forward again");
  }
  const RecurrentConfig& cfg = tape.cfg;
  const int64_t L = cfg.num_layers, D = cfg.num_directions, H = cfg.hidden_size;
  const int64_t T_ = tape.seq_len, B = tape.batch, BH = B * H, GH = cfg.gates() * H;
  if (static_cast<int64_t>(weights.size()) != L * D ||
      static_cast<int64_t>(grads.size()) != L * D) {
    throw std::invalid_argument("weight / gradient sets do not match the layer count");
  }
  tape.consumed = true;
  const blas::ScopedSingleThread single_threaded_blas;          // as in recurrent_forward
  std::vector<T> d_layer(d_output, d_output + T_ * B * D * H);  // grad of current layer output
  std::vector<T> d_below;
  for (int64_t l = L - 1; l >= 0; --l) {
    const int64_t in_size = cfg.layer_input_size(l);
    const T* in = l == 0 ? x : tape.outputs[sz(l - 1)].data();
    T* d_in = d_x;
    if (l > 0) {
      d_below.resize(sz(T_ * B * in_size));
      d_in = d_below.data();
    }
    for (int dir = 0; dir < D; ++dir) {
      const int64_t idx = l * D + dir;
      const Dims d{T_, B, H, GH, D * H, in_size, dir};
      backward_direction(cfg, d, in, weights[sz(idx)], tape.h0.data() + idx * BH,
                         cfg.has_cell() ? tape.c0.data() + idx * BH : nullptr,
                         tape.outputs[sz(l)].data(), tape.gates[sz(idx)].data(),
                         tape.aux[sz(idx)].data(), d_layer.data(),
                         d_h_n != nullptr ? d_h_n + idx * BH : nullptr,
                         (cfg.has_cell() && d_c_n != nullptr) ? d_c_n + idx * BH : nullptr, d_in,
                         dir == 0 ? T(0) : T(1), d_h0 + idx * BH,
                         cfg.has_cell() ? d_c0 + idx * BH : nullptr, grads[sz(idx)]);
    }
    if (l > 0) std::swap(d_layer, d_below);
  }
}

#define HETENSOR_RECURRENT_INSTANTIATE(T)                                                          \
  template void recurrent_forward<T>(const RecurrentConfig&, int64_t, int64_t, const T*, const T*, \
                                     const T*, const std::vector<CellWeights<T>>&, T*, T*, T*,     \
                                     RecurrentTape<T>&);                                           \
  template void recurrent_backward<T>(RecurrentTape<T>&, const T*,                                 \
                                      const std::vector<CellWeights<T>>&, const T*, const T*,      \
                                      const T*, T*, T*, T*, const std::vector<CellGrads<T>>&);

HETENSOR_RECURRENT_INSTANTIATE(float)
HETENSOR_RECURRENT_INSTANTIATE(double)

#undef HETENSOR_RECURRENT_INSTANTIATE

}  // namespace hetensor::nn
