// _core.conv: conv2d forward/backward (CPU, and CUDA when built), the CPU emulation of the CUDA
// tiles, the per-frequency pseudo-inverse of a multi-channel convolution, and a GEMM helper.

#include <pybind11/complex.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "bindings.hpp"
#include "hetensor/common/blas.hpp"
#include "hetensor/conv/conv2d.hpp"
#include "hetensor/conv/fft_pinv.hpp"
#if HETENSOR_HAS_CUDA
#include "hetensor/cuda/conv2d.hpp"
#endif

namespace py = pybind11;

namespace hetensor::bindings {

namespace {

using i64 = std::int64_t;

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

void require_ndim(const py::array& a, py::ssize_t nd, const char* what) {
  if (a.ndim() != nd) {
    throw std::invalid_argument(std::string(what) + " must be " + std::to_string(nd) +
                                "-D, got shape " + shape_str(a));
  }
}

// Geometry from x (N, C, H, W), w (C_out, C/groups, kh, kw) and the Python-side options.
conv::Conv2dParams make_params(const py::array& x, const py::array& w, std::array<i64, 2> stride,
                               std::array<i64, 4> padding, std::array<i64, 2> dilation,
                               i64 groups) {
  require_ndim(x, 4, "input");
  require_ndim(w, 4, "weight");
  conv::Conv2dParams p;
  p.n = x.shape(0);
  p.c_in = x.shape(1);
  p.h = x.shape(2);
  p.w = x.shape(3);
  p.c_out = w.shape(0);
  p.kh = w.shape(2);
  p.kw = w.shape(3);
  p.stride_h = stride[0];
  p.stride_w = stride[1];
  p.pad_top = padding[0];
  p.pad_bottom = padding[1];
  p.pad_left = padding[2];
  p.pad_right = padding[3];
  p.dil_h = dilation[0];
  p.dil_w = dilation[1];
  p.groups = groups;
  if (groups >= 1 && w.shape(1) * groups != p.c_in) {
    throw std::invalid_argument("weight of shape " + shape_str(w) +
                                " with groups=" + std::to_string(groups) + " expects input with " +
                                std::to_string(w.shape(1) * groups) +
                                " channels, but got input of shape " + shape_str(x));
  }
  p.validate();
  return p;
}

// Where a call runs: the fast CPU kernels (with an algorithm), their tiled CUDA counterparts, or
// the CPU emulation of those ("tiled").
struct Target {
  enum class Kind { cpu, cpu_tiled, cuda } kind = Kind::cpu;
  conv::Algorithm algo = conv::Algorithm::automatic;
};

Target parse_target(const std::string& algorithm, const std::string& device) {
  Target t;
  if (device == "cuda") {
#if HETENSOR_HAS_CUDA
    t.kind = Target::Kind::cuda;
    return t;
#else
    throw std::runtime_error("device='cuda' requested but this build has no CUDA kernels");
#endif
  }
  if (device != "cpu")
    throw std::invalid_argument("device must be 'cpu' or 'cuda', got '" + device + "'");
  if (algorithm == "auto") return t;
  if (algorithm == "gemm") {
    t.algo = conv::Algorithm::gemm;
  } else if (algorithm == "winograd") {
    t.algo = conv::Algorithm::winograd;
  } else if (algorithm == "tiled") {
    t.kind = Target::Kind::cpu_tiled;
  } else {
    throw std::invalid_argument("algorithm must be 'auto', 'gemm', 'winograd' or 'tiled', got '" +
                                algorithm + "'");
  }
  return t;
}

template <typename T>
py::array forward_typed(const py::array& x_in, const py::array& w_in,
                        const std::optional<py::array>& b_in, const conv::Conv2dParams& p,
                        const Target& target, int threads) {
  auto x = Array<T>::ensure(x_in);
  auto w = Array<T>::ensure(w_in);
  Array<T> b;
  const T* bias = nullptr;
  if (b_in) {
    b = Array<T>::ensure(*b_in);
    if (b.ndim() != 1 || b.shape(0) != p.c_out) {
      throw std::invalid_argument("bias must have shape (" + std::to_string(p.c_out) + ",), got " +
                                  shape_str(b));
    }
    bias = b.data();
  }
  Array<T> y({p.n, p.c_out, p.out_h(), p.out_w()});
  const T* xp = x.data();
  const T* wp = w.data();
  T* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    switch (target.kind) {
      case Target::Kind::cpu:
        conv::conv2d_forward<T>(p, xp, wp, bias, yp, target.algo, threads);
        break;
      case Target::Kind::cpu_tiled:
        conv::conv2d_forward_tiled<T>(p, xp, wp, bias, yp);
        break;
      case Target::Kind::cuda:
#if HETENSOR_HAS_CUDA
        cuda::conv2d_forward<T>(p, xp, wp, bias, yp);
#endif
        break;
    }
  }
  return std::move(y);
}

template <typename T>
py::tuple backward_typed(const py::array& x_in, const py::array& w_in, const py::array& gy_in,
                         const conv::Conv2dParams& p, bool need_input, bool need_weight,
                         bool need_bias, const Target& target, int threads) {
  auto x = Array<T>::ensure(x_in);
  auto w = Array<T>::ensure(w_in);
  auto gy = Array<T>::ensure(gy_in);
  if (gy.ndim() != 4 || gy.shape(0) != p.n || gy.shape(1) != p.c_out || gy.shape(2) != p.out_h() ||
      gy.shape(3) != p.out_w()) {
    throw std::invalid_argument("grad_output must have the output's shape (" + std::to_string(p.n) +
                                ", " + std::to_string(p.c_out) + ", " + std::to_string(p.out_h()) +
                                ", " + std::to_string(p.out_w()) + "), got " + shape_str(gy));
  }
  py::object gx = py::none(), gw = py::none(), gb = py::none();
  T* gxp = nullptr;
  T* gwp = nullptr;
  T* gbp = nullptr;
  if (need_input) {
    Array<T> a({p.n, p.c_in, p.h, p.w});
    gxp = a.mutable_data();
    gx = std::move(a);
  }
  if (need_weight) {
    Array<T> a({p.c_out, p.cin_g(), p.kh, p.kw});
    gwp = a.mutable_data();
    gw = std::move(a);
  }
  if (need_bias) {
    Array<T> a(p.c_out);
    gbp = a.mutable_data();
    gb = std::move(a);
  }
  const T* xp = x.data();
  const T* wp = w.data();
  const T* gyp = gy.data();
  {
    py::gil_scoped_release release;
    switch (target.kind) {
      case Target::Kind::cpu:
        conv::conv2d_backward<T>(p, xp, wp, gyp, gxp, gwp, gbp, threads);
        break;
      case Target::Kind::cpu_tiled:
        conv::conv2d_backward_tiled<T>(p, xp, wp, gyp, gxp, gwp, gbp);
        break;
      case Target::Kind::cuda:
#if HETENSOR_HAS_CUDA
        cuda::conv2d_backward<T>(p, xp, wp, gyp, gxp, gwp, gbp);
#endif
        break;
    }
  }
  return py::make_tuple(gx, gw, gb);
}

bool is_float32(const py::array& a) { return a.dtype().is(py::dtype::of<float>()); }

void require_float(const py::array& a, const char* what) {
  if (!a.dtype().is(py::dtype::of<float>()) && !a.dtype().is(py::dtype::of<double>())) {
    throw py::type_error(std::string(what) + " must be float32 or float64, got " +
                         std::string(py::str(a.dtype())));
  }
}

template <typename T>
py::array gemm_typed(const py::array& a_in, const py::array& b_in) {
  auto a = Array<T>::ensure(a_in);
  auto b = Array<T>::ensure(b_in);
  require_ndim(a, 2, "a");
  require_ndim(b, 2, "b");
  if (a.shape(1) != b.shape(0)) {
    throw std::invalid_argument("shapes " + shape_str(a) + " and " + shape_str(b) + " not aligned");
  }
  const i64 m = a.shape(0), k = a.shape(1), n = b.shape(1);
  Array<T> c({m, n});
  const T* ap = a.data();
  const T* bp = b.data();
  T* cp = c.mutable_data();
  {
    py::gil_scoped_release release;
    blas::gemm(false, false, m, n, k, T(1), ap, k, bp, n, T(0), cp, n);
  }
  return std::move(c);
}

bool is_complex64(const py::array& a) { return a.dtype().is(py::dtype::of<std::complex<float>>()); }

void require_complex(const py::array& a, const char* what) {
  if (!is_complex64(a) && !a.dtype().is(py::dtype::of<std::complex<double>>())) {
    throw py::type_error(std::string(what) + " must be complex64 or complex128, got " +
                         std::string(py::str(a.dtype())));
  }
}

template <typename R>
py::tuple pinv_typed(const py::array& a_in, double rcond, bool global, int threads) {
  auto a = Array<std::complex<R>>::ensure(a_in);
  require_ndim(a, 3, "a");
  const i64 F = a.shape(0), m = a.shape(1), n = a.shape(2);
  if (m < 1 || n < 1) {
    throw std::invalid_argument("a needs at least one channel, got shape " + shape_str(a));
  }
  if (!(rcond >= 0.0) || !std::isfinite(rcond)) {
    throw std::invalid_argument("rcond must be a finite number >= 0, got " + std::to_string(rcond));
  }
  Array<std::complex<R>> p({F, n, m});
  Array<i64> rank({F});
  const std::complex<R>* ap = a.data();
  std::complex<R>* pp = p.mutable_data();
  i64* rp = rank.mutable_data();
  conv::PinvStats st;
  {
    py::gil_scoped_release release;
    st = conv::transfer_pinv<R>(ap, m, n, F, rcond, global, pp, rp, threads);
  }
  py::dict stats;
  stats["inverted"] = st.inverted;
  stats["svd"] = st.svd;
  stats["smax_svds"] = st.smax_svds;
  return py::make_tuple(p, rank, stats);
}

template <typename R>
py::array singular_values_typed(const py::array& a_in, int threads) {
  auto a = Array<std::complex<R>>::ensure(a_in);
  require_ndim(a, 3, "a");
  const i64 F = a.shape(0), m = a.shape(1), n = a.shape(2);
  if (m < 1 || n < 1) {
    throw std::invalid_argument("a needs at least one channel, got shape " + shape_str(a));
  }
  Array<R> s({F, std::min(m, n)});
  const std::complex<R>* ap = a.data();
  R* sp = s.mutable_data();
  {
    py::gil_scoped_release release;
    conv::transfer_singular_values<R>(ap, m, n, F, sp, threads);
  }
  return std::move(s);
}

template <typename R>
py::array per_frequency_typed(const py::array& mats_in, const py::array& x_in, int threads) {
  auto mats = Array<std::complex<R>>::ensure(mats_in);
  auto x = Array<std::complex<R>>::ensure(x_in);
  require_ndim(mats, 3, "mats");
  require_ndim(x, 3, "x");
  const i64 F = mats.shape(0), rows = mats.shape(1), cols = mats.shape(2);
  if (x.shape(1) != cols || x.shape(2) != F) {
    throw std::invalid_argument("x must have shape (batch, " + std::to_string(cols) + ", " +
                                std::to_string(F) + "), got " + shape_str(x));
  }
  const i64 batch = x.shape(0);
  Array<std::complex<R>> y({batch, rows, F});
  const std::complex<R>* mp = mats.data();
  const std::complex<R>* xp = x.data();
  std::complex<R>* yp = y.mutable_data();
  {
    py::gil_scoped_release release;
    conv::apply_per_frequency<R>(mp, rows, cols, F, xp, batch, yp, threads);
  }
  return std::move(y);
}

}  // namespace

void register_conv(py::module_& m) {
  py::module_ c =
      m.def_submodule("conv", "2-D convolution kernels and FFT pseudo-inverse helpers.");

  c.def(
      "conv2d_forward",
      [](const py::array& x, const py::array& w, const std::optional<py::array>& bias,
         std::array<i64, 2> stride, std::array<i64, 4> padding, std::array<i64, 2> dilation,
         i64 groups, const std::string& algorithm, const std::string& device, int threads) {
        require_float(x, "input");
        const auto p = make_params(x, w, stride, padding, dilation, groups);
        const auto target = parse_target(algorithm, device);
        if (is_float32(x)) return forward_typed<float>(x, w, bias, p, target, threads);
        return forward_typed<double>(x, w, bias, p, target, threads);
      },
      py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
      py::arg("dilation"), py::arg("groups"), py::arg("algorithm") = "auto",
      py::arg("device") = "cpu", py::arg("threads") = 0, R"doc(
NCHW cross-correlation on the CPU (the kernel behind ``hetensor.nn.functional.conv2d``).

``padding`` is ``(top, bottom, left, right)``; ``stride`` and ``dilation`` are ``(h, w)``.
The computation runs in ``x``'s dtype (float32 or float64); ``weight`` and ``bias`` are
converted to it. ``algorithm``: ``"auto"``, ``"gemm"`` (cache-blocked im2col + OpenBLAS),
``"winograd"`` (F(2x2,3x3), 3x3 stride-1 undilated only) or ``"tiled"`` (the CUDA kernels'
per-tile code run on the CPU, for tests). ``device="cuda"`` runs the tiled CUDA kernels (CUDA
builds only; the algorithm is ignored). ``threads <= 0``: default count.
)doc");

  c.def(
      "conv2d_backward",
      [](const py::array& x, const py::array& w, const py::array& grad_output,
         std::array<i64, 2> stride, std::array<i64, 4> padding, std::array<i64, 2> dilation,
         i64 groups, bool need_input, bool need_weight, bool need_bias,
         const std::string& algorithm, const std::string& device, int threads) {
        require_float(x, "input");
        const auto p = make_params(x, w, stride, padding, dilation, groups);
        const auto target = parse_target(algorithm, device);
        if (is_float32(x)) {
          return backward_typed<float>(x, w, grad_output, p, need_input, need_weight, need_bias,
                                       target, threads);
        }
        return backward_typed<double>(x, w, grad_output, p, need_input, need_weight, need_bias,
                                      target, threads);
      },
      py::arg("x"), py::arg("weight"), py::arg("grad_output"), py::arg("stride"),
      py::arg("padding"), py::arg("dilation"), py::arg("groups"), py::arg("need_input") = true,
      py::arg("need_weight") = true, py::arg("need_bias") = true, py::arg("algorithm") = "auto",
      py::arg("device") = "cpu", py::arg("threads") = 0, R"doc(
Gradients ``(grad_input, grad_weight, grad_bias)`` of ``sum(grad_output * conv2d(x, weight) + bias)``;
an entry is ``None`` when its ``need_*`` flag is false. Same conventions as ``conv2d_forward``
(the CPU backward always uses im2col + GEMM; ``"tiled"`` selects the CUDA emulation).
)doc");

  c.def(
      "transfer_pinv",
      [](const py::array& a, double rcond, const std::string& cutoff, int threads) {
        require_complex(a, "a");
        if (cutoff != "global" && cutoff != "frequency") {
          throw std::invalid_argument("cutoff must be 'global' or 'frequency', got '" + cutoff +
                                      "'");
        }
        const bool global = cutoff == "global";
        if (is_complex64(a)) return pinv_typed<float>(a, rcond, global, threads);
        return pinv_typed<double>(a, rcond, global, threads);
      },
      py::arg("a"), py::arg("rcond"), py::arg("cutoff") = "global", py::arg("threads") = 0,
      R"doc(
Pseudo-inverses of the per-frequency transfer matrices ``a`` (F, c_out, c_in) of a
multi-channel circular cross-correlation, singular values ``<= rcond * s_max`` dropped
(``cutoff="global"``: ``s_max`` over all frequencies; ``"frequency"``: each matrix's own).
Returns ``(p, rank, stats)``: ``p`` (F, c_in, c_out), ``rank`` (F,) int64, and ``stats`` a
dict of frequency counts: ``inverted`` (square and provably above the cut-off, so inverted by
LU: ``sigma_min >= 1/||A^-1||_F`` with a factor-2 margin), ``svd`` (the rest, one thin
``?gesdd`` each), ``smax_svds`` (singular-values-only SVDs for the exact global ``s_max``).
Threaded over frequencies.
)doc");

  c.def(
      "transfer_singular_values",
      [](const py::array& a, int threads) {
        require_complex(a, "a");
        if (is_complex64(a)) return singular_values_typed<float>(a, threads);
        return singular_values_typed<double>(a, threads);
      },
      py::arg("a"), py::arg("threads") = 0, R"doc(
Singular values (F, min(c_out, c_in)), descending, of the matrices ``a`` (F, c_out, c_in)
(LAPACK ``?gesdd`` with ``jobz='N'``), threaded over frequencies.
)doc");

  c.def(
      "apply_per_frequency",
      [](const py::array& mats, const py::array& x, int threads) {
        require_complex(mats, "mats");
        if (is_complex64(mats)) return per_frequency_typed<float>(mats, x, threads);
        return per_frequency_typed<double>(mats, x, threads);
      },
      py::arg("mats"), py::arg("x"), py::arg("threads") = 0, R"doc(
``y[b][:, f] = mats[f] @ x[b][:, f]`` for spectra ``x`` (batch, cols, F) and matrices ``mats``
(F, rows, cols); returns (batch, rows, F). The forward operator (``mats`` = transfer
matrices) and the pseudo-inverse (``mats`` = their pseudo-inverses) in the frequency domain.
)doc");

  c.def(
      "gemm",
      [](const py::array& a, const py::array& b) {
        require_float(a, "a");
        if (is_float32(a)) return gemm_typed<float>(a, b);
        return gemm_typed<double>(a, b);
      },
      py::arg("a"), py::arg("b"), R"doc(
``a @ b`` through the same OpenBLAS (scipy-openblas32) GEMM the conv kernels call, in ``a``'s
dtype; the benchmarks use it to measure the machine's SGEMM speed in the same run.
)doc");
}

}  // namespace hetensor::bindings
