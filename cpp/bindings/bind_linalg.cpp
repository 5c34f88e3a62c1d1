// _core.linalg: block power iteration over dense, CSR and Python (matrix-free) operators.

#include <pybind11/functional.h>
#include <pybind11/numpy.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "bindings.hpp"
#include "hetensor/common/blas.hpp"
#include "hetensor/linalg/power_iteration.hpp"

namespace py = pybind11;

namespace hetensor::bindings {

namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

// The parts every operator kind shares: start block checks, outputs, the GIL-free run.
template <typename T>
py::tuple run_power_iteration(std::int64_t n, const Array<T>& v0, std::int64_t k, double tol,
                              std::int64_t max_iter, const linalg::MatMat<T>& matmat,
                              std::int64_t filter_degree) {
  if (v0.ndim() != 2 || v0.shape(0) != n) {
    throw std::invalid_argument("start block v0 of shape " + shape_str(v0) +
                                " does not match an operator of order " + std::to_string(n));
  }
  const std::int64_t p = v0.shape(1);
  if (k < 1 || k > p) {
    throw std::invalid_argument("k=" + std::to_string(k) + " must be in [1, " + std::to_string(p) +
                                "] (the block size)");
  }
  Array<T> v({n, p});  // private copy: the kernel overwrites its start block
  std::copy(v0.data(), v0.data() + n * p, v.mutable_data());
  Array<T> eigvals(k);
  Array<T> eigvecs({n, k});
  Array<double> residuals(k);
  linalg::PowerIterationResult r;
  {
    py::gil_scoped_release release;
    r = linalg::power_iteration<T>(n, k, p, matmat, v.mutable_data(), tol, max_iter,
                                   eigvals.mutable_data(), eigvecs.mutable_data(),
                                   residuals.mutable_data(), filter_degree);
  }
  py::dict info;
  info["iterations"] = r.iterations;
  info["matmats"] = r.matmats;
  info["converged"] = r.converged;
  info["max_change"] = r.max_change;
  info["householder_fallbacks"] = r.fallbacks;
  info["residual_norms"] = residuals;
  return py::make_tuple(eigvals, eigvecs, info);
}

// Thick-restart Lanczos on any operator kind (method="lanczos").
template <typename T>
py::tuple run_lanczos(std::int64_t n, const Array<T>& v0, std::int64_t k, std::int64_t m,
                      double tol, std::int64_t max_iter, std::uint64_t seed,
                      const linalg::BlockOp<T>& op) {
  if (v0.ndim() != 1 || v0.shape(0) != n) {
    throw std::invalid_argument("start vector v0 of shape " + shape_str(v0) +
                                " does not match an operator of order " + std::to_string(n));
  }
  if (k < 1 || k > n) {
    throw std::invalid_argument("k=" + std::to_string(k) + " must be in [1, " + std::to_string(n) +
                                "]");
  }
  Array<T> eigvals(k);
  Array<T> eigvecs({n, k});
  Array<double> residuals(k);
  linalg::LanczosResult r;
  {
    py::gil_scoped_release release;
    r = linalg::lanczos<T>(n, k, m, op, v0.data(), tol, max_iter, seed, eigvals.mutable_data(),
                           eigvecs.mutable_data(), residuals.mutable_data());
  }
  py::dict info;
  info["iterations"] = r.steps;
  info["restarts"] = r.restarts;
  info["matvecs"] = r.matvecs;
  info["converged"] = r.converged;
  info["max_change"] = r.max_estimate;
  info["basis_size"] = r.basis_size;
  info["householder_fallbacks"] = std::int64_t{0};
  info["residual_norms"] = residuals;
  return py::make_tuple(eigvals, eigvecs, info);
}

// A @ V for a Python callable on (n, p) blocks, called with the GIL taken.
template <typename T>
linalg::BlockOp<T> python_op(const py::function& matmat, std::int64_t n) {
  return [&matmat, n](const T* v, std::int64_t p, T* w) {
    py::gil_scoped_acquire gil;
    Array<T> block({n, p});
    std::copy(v, v + n * p, block.mutable_data());
    py::object out = matmat(block);
    Array<T> res = Array<T>::ensure(out);
    if (!res) throw py::error_already_set();
    if (res.ndim() != 2 || res.shape(0) != n || res.shape(1) != p) {
      throw std::invalid_argument("the operator returned shape " + shape_str(res) +
                                  " for a block of shape (" + std::to_string(n) + "," +
                                  std::to_string(p) + "), expected the same shape");
    }
    std::copy(res.data(), res.data() + n * p, w);
  };
}

// Dense A: GEMV for one column, the tiled block product otherwise.
template <typename T>
linalg::BlockOp<T> dense_op(const T* pa, std::int64_t n) {
  return [pa, n](const T* v, std::int64_t p, T* w) {
    if (p == 1) {
      linalg::dense_matvec<T>(pa, n, v, w);
    } else {
      linalg::dense_matmat<T>(pa, n, v, p, w);
    }
  };
}

// Fixed-width view of a BlockOp for the block iterations.
template <typename T>
linalg::MatMat<T> fixed_width(linalg::BlockOp<T> op, std::int64_t p) {
  return [op = std::move(op), p](const T* v, T* w) { op(v, p, w); };
}

template <typename T>
void check_dense(const Array<T>& a, bool check_symmetric) {
  if (a.ndim() != 2 || a.shape(0) != a.shape(1)) {
    throw std::invalid_argument("A must be a square matrix, got shape " + shape_str(a));
  }
  if (!check_symmetric) return;
  const std::int64_t n = a.shape(0);
  const T* pa = a.data();
  double asym = 0.0, amax = 0.0;
  {
    py::gil_scoped_release release;
    asym = linalg::dense_max_asymmetry<T>(pa, n);
    for (std::int64_t i = 0; i < n * n; ++i) amax = std::max(amax, double(std::abs(pa[i])));
  }
  const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
  if (asym > std::sqrt(eps) * amax) {
    throw std::invalid_argument("A is not symmetric: max |A - A.T| = " + std::to_string(asym) +
                                " (max |A| = " + std::to_string(amax) + ")");
  }
}

template <typename I, typename T>
linalg::CsrView<T, I> checked_csr(const Array<I>& indptr, const Array<I>& indices,
                                  const Array<T>& data, std::int64_t n, bool check_symmetric) {
  if (indptr.ndim() != 1 || indptr.shape(0) != n + 1) {
    throw std::invalid_argument("indptr must have n + 1 = " + std::to_string(n + 1) +
                                " entries, got shape " + shape_str(indptr));
  }
  if (indices.ndim() != 1 || data.ndim() != 1 || indices.shape(0) != data.shape(0)) {
    throw std::invalid_argument("indices " + shape_str(indices) + " and data " + shape_str(data) +
                                " must be 1-D of equal length");
  }
  linalg::CsrView<T, I> a{n, n, indptr.data(), indices.data(), data.data()};
  if (static_cast<std::int64_t>(a.indptr[n]) != data.shape(0) || a.indptr[0] != 0) {
    throw std::invalid_argument("indptr does not match the number of stored values");
  }
  if (check_symmetric) {
    double asym = 0.0;
    {
      py::gil_scoped_release release;
      asym = linalg::csr_asymmetry_probe<T, I>(a);
    }
    const double eps = static_cast<double>(std::numeric_limits<T>::epsilon());
    if (asym > std::sqrt(eps)) {
      throw std::invalid_argument("A is not symmetric: |u^T A v - v^T A u| reaches " +
                                  std::to_string(asym) +
                                  " of |u| |A v| + |v| |A u| for random probes u, v");
    }
  }
  return a;
}

template <typename T>
void register_typed(py::module_& l) {
  l.def(
      "power_iteration_dense",
      [](const Array<T>& a, const Array<T>& v0, std::int64_t k, double tol, std::int64_t max_iter,
         bool check_symmetric, std::int64_t filter_degree) {
        check_dense(a, check_symmetric);
        const std::int64_t n = a.shape(0), p = v0.ndim() == 2 ? v0.shape(1) : 0;
        return run_power_iteration<T>(n, v0, k, tol, max_iter,
                                      fixed_width(dense_op(a.data(), n), p), filter_degree);
      },
      py::arg("a"), py::arg("v0"), py::arg("k"), py::arg("tol"), py::arg("max_iter"),
      py::arg("check_symmetric") = true, py::arg("filter_degree") = 1, R"doc(
Block power iteration on a dense symmetric matrix ``a`` (n, n) from the start block ``v0``
(n, p), p >= k. Returns ``(eigvals (k,), eigvecs (n, k), info dict)``; eigenvalues by
decreasing magnitude, each eigenvector's largest-magnitude entry positive. Checks that ``a``
is finite (``NonFiniteError``) and symmetric to sqrt(eps) relative (``ValueError``).
``filter_degree`` 1: plain power steps; m >= 2: Chebyshev-filtered subspace iteration with
degree-m filters (needs p > k). ``info["matmats"]`` counts block products.
)doc");
  l.def(
      "lanczos_dense",
      [](const Array<T>& a, const Array<T>& v0, std::int64_t k, std::int64_t m, double tol,
         std::int64_t max_iter, bool check_symmetric, std::uint64_t seed) {
        check_dense(a, check_symmetric);
        const std::int64_t n = a.shape(0);
        return run_lanczos<T>(n, v0, k, m, tol, max_iter, seed, dense_op(a.data(), n));
      },
      py::arg("a"), py::arg("v0"), py::arg("k"), py::arg("m"), py::arg("tol"), py::arg("max_iter"),
      py::arg("check_symmetric") = true, py::arg("seed") = 0, R"doc(
Thick-restart Lanczos (full reorthogonalisation, basis of at most ``m`` vectors) on a dense
symmetric matrix from the start vector ``v0`` (n,); ``max_iter`` bounds the Lanczos steps,
``seed`` the random vectors it injects. Same returns and checks as ``power_iteration_dense``;
``info["iterations"]`` counts Lanczos steps, ``info["matvecs"]`` adds the k products of the
final residual check, ``info["max_change"]`` is the largest relative Ritz residual estimate.
)doc");

  auto csr = [](auto index_tag) {
    using I = decltype(index_tag);
    return [](const Array<I>& indptr, const Array<I>& indices, const Array<T>& data, std::int64_t n,
              const Array<T>& v0, std::int64_t k, double tol, std::int64_t max_iter,
              bool check_symmetric, std::int64_t filter_degree) {
      const auto a = checked_csr<I, T>(indptr, indices, data, n, check_symmetric);
      const std::int64_t p = v0.ndim() == 2 ? v0.shape(1) : 0;
      linalg::MatMat<T> mm = [a, p](const T* v, T* w) { linalg::csr_matmat<T, I>(a, v, p, w); };
      return run_power_iteration<T>(n, v0, k, tol, max_iter, mm, filter_degree);
    };
  };
  auto csr_lanczos = [](auto index_tag) {
    using I = decltype(index_tag);
    return [](const Array<I>& indptr, const Array<I>& indices, const Array<T>& data, std::int64_t n,
              const Array<T>& v0, std::int64_t k, std::int64_t m, double tol, std::int64_t max_iter,
              bool check_symmetric, std::uint64_t seed) {
      const auto a = checked_csr<I, T>(indptr, indices, data, n, check_symmetric);
      linalg::BlockOp<T> op = [a](const T* v, std::int64_t p, T* w) {
        linalg::csr_matmat<T, I>(a, v, p, w);
      };
      return run_lanczos<T>(n, v0, k, m, tol, max_iter, seed, op);
    };
  };
  const char* csr_doc = R"doc(
Block power iteration on a symmetric CSR matrix (``indptr``, ``indices``, ``data``, order
``n``; indices sorted per row, no duplicates) with multithreaded CSR x block products.
Same returns and checks as ``power_iteration_dense``.
)doc";
  const char* csr_lanczos_doc = R"doc(
Thick-restart Lanczos on a symmetric CSR matrix (as ``power_iteration_csr``) with threaded
sparse matrix-vector products. Same returns as ``lanczos_dense``.
)doc";
  l.def("power_iteration_csr", csr(std::int32_t{}), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("n"), py::arg("v0"), py::arg("k"), py::arg("tol"),
        py::arg("max_iter"), py::arg("check_symmetric") = true, py::arg("filter_degree") = 1,
        csr_doc);
  l.def("power_iteration_csr", csr(std::int64_t{}), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("n"), py::arg("v0"), py::arg("k"), py::arg("tol"),
        py::arg("max_iter"), py::arg("check_symmetric") = true, py::arg("filter_degree") = 1,
        csr_doc);
  l.def("lanczos_csr", csr_lanczos(std::int32_t{}), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("n"), py::arg("v0"), py::arg("k"), py::arg("m"), py::arg("tol"),
        py::arg("max_iter"), py::arg("check_symmetric") = true, py::arg("seed") = 0,
        csr_lanczos_doc);
  l.def("lanczos_csr", csr_lanczos(std::int64_t{}), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("n"), py::arg("v0"), py::arg("k"), py::arg("m"), py::arg("tol"),
        py::arg("max_iter"), py::arg("check_symmetric") = true, py::arg("seed") = 0,
        csr_lanczos_doc);

  l.def(
      "power_iteration_operator",
      [](const py::function& matmat, std::int64_t n, const Array<T>& v0, std::int64_t k, double tol,
         std::int64_t max_iter, std::int64_t filter_degree) {
        const std::int64_t p = v0.ndim() == 2 ? v0.shape(1) : 0;
        return run_power_iteration<T>(n, v0, k, tol, max_iter,
                                      fixed_width(python_op<T>(matmat, n), p), filter_degree);
      },
      py::arg("matmat"), py::arg("n"), py::arg("v0"), py::arg("k"), py::arg("tol"),
      py::arg("max_iter"), py::arg("filter_degree") = 1, R"doc(
Block power iteration on a matrix-free symmetric operator: ``matmat(V)`` must return ``A @ V``
for an (n, p) block ``V``; it is called from the C++ loop (the GIL is taken for each call),
while the Rayleigh-Ritz step and orthonormalisation run in C++. Symmetry is checked on
``V^T A V`` at every iteration.
)doc");
  l.def(
      "lanczos_operator",
      [](const py::function& matmat, std::int64_t n, const Array<T>& v0, std::int64_t k,
         std::int64_t m, double tol, std::int64_t max_iter, std::uint64_t seed) {
        return run_lanczos<T>(n, v0, k, m, tol, max_iter, seed, python_op<T>(matmat, n));
      },
      py::arg("matmat"), py::arg("n"), py::arg("v0"), py::arg("k"), py::arg("m"), py::arg("tol"),
      py::arg("max_iter"), py::arg("seed") = 0, R"doc(
Thick-restart Lanczos on a matrix-free symmetric operator: ``matmat(V)`` is called with an
(n, 1) block per Lanczos step (GIL taken per call) and once with (n, k) for the residuals;
symmetry is checked on the Gram-Schmidt coefficients. Same returns as ``lanczos_dense``.
)doc");

  l.def(
      "csr_matmat",
      [](const Array<std::int64_t>& indptr, const Array<std::int64_t>& indices,
         const Array<T>& data, std::int64_t n_cols, const Array<T>& x) {
        const std::int64_t n_rows = indptr.ndim() == 1 ? indptr.shape(0) - 1 : -1;
        if (n_rows < 0 || x.ndim() != 2 || x.shape(0) != n_cols) {
          throw std::invalid_argument("csr_matmat: bad shapes, indptr " + shape_str(indptr) +
                                      ", x " + shape_str(x) + ", n_cols " + std::to_string(n_cols));
        }
        linalg::CsrView<T, std::int64_t> a{n_rows, n_cols, indptr.data(), indices.data(),
                                           data.data()};
        Array<T> y({n_rows, static_cast<std::int64_t>(x.shape(1))});
        {
          py::gil_scoped_release release;
          linalg::csr_matmat<T, std::int64_t>(a, x.data(), x.shape(1), y.mutable_data());
        }
        return y;
      },
      py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("n_cols"), py::arg("x"),
      R"doc(``A @ x`` for a CSR matrix A (int64 indices) and a dense (n_cols, p) block x.)doc");
}

}  // namespace

void register_linalg(py::module_& m) {
  py::module_ l = m.def_submodule("linalg", "Plaintext linear-algebra kernels.");
  register_typed<float>(l);
  register_typed<double>(l);
}

}  // namespace hetensor::bindings
