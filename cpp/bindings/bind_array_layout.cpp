// _core.packing (continued): N-d array layouts, relayout plans and the BSGS diagonal plan.

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "hetensor/packing/array_layout.hpp"

namespace py = pybind11;

namespace hetensor::bindings {

namespace {

using packing::ArrayLayout;
using packing::BsgsPlan;
using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IndexArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

py::tuple as_tuple(const std::vector<std::int64_t>& v) { return py::cast(v).cast<py::tuple>(); }

std::string repr(const ArrayLayout& l) {
  auto t = [](const std::vector<std::int64_t>& v) {
    return py::repr(as_tuple(v)).cast<std::string>();
  };
  return "ArrayLayout(shape=" + t(l.shape) + ", pads=" + t(l.pads) + ", strides=" + t(l.strides) +
         ", period=" + std::to_string(l.period) + ", slots=" + std::to_string(l.slots) +
         ", chunk_rows=" + std::to_string(l.chunk_rows) +
         ", n_chunks=" + std::to_string(l.n_chunks) + ")";
}

ArrayLayout make_layout(std::vector<std::int64_t> shape, std::vector<std::int64_t> pads,
                        std::vector<std::int64_t> strides, std::int64_t period, std::int64_t slots,
                        std::int64_t chunk_rows, std::int64_t n_chunks) {
  ArrayLayout l;
  l.shape = std::move(shape);
  l.pads = std::move(pads);
  l.strides = std::move(strides);
  l.period = period;
  l.slots = slots;
  l.chunk_rows = chunk_rows;
  l.n_chunks = n_chunks;
  packing::validate(l);
  return l;
}

}  // namespace

void register_array_layout(py::module_& m) {
  py::module_ p = m.attr("packing").cast<py::module_>();

  py::class_<ArrayLayout>(p, "ArrayLayout", R"doc(
Bit-field slot layout of an N-d array in packed ciphertexts (see array_layout.hpp).

Element ``(i_0, ..., i_{n-1})`` sits in slot ``sum_k i_k * strides[k]`` of a block of
``period`` slots that repeats over all ``slots``; axis ``k`` is padded to ``pads[k]``. Arrays
larger than one ciphertext are split along axis 0 into ``n_chunks`` ciphertexts of
``chunk_rows`` rows.
)doc")
      .def(py::init(&make_layout), py::arg("shape"), py::arg("pads"), py::arg("strides"),
           py::arg("period"), py::arg("slots"), py::arg("chunk_rows"), py::arg("n_chunks"))
      .def_property_readonly("shape", [](const ArrayLayout& l) { return as_tuple(l.shape); })
      .def_property_readonly("pads", [](const ArrayLayout& l) { return as_tuple(l.pads); })
      .def_property_readonly("strides", [](const ArrayLayout& l) { return as_tuple(l.strides); })
      .def_readonly("period", &ArrayLayout::period)
      .def_readonly("slots", &ArrayLayout::slots)
      .def_readonly("chunk_rows", &ArrayLayout::chunk_rows)
      .def_readonly("n_chunks", &ArrayLayout::n_chunks)
      .def_property_readonly("ndim", &ArrayLayout::ndim)
      .def_property_readonly("size", &ArrayLayout::size)
      .def("__eq__", &ArrayLayout::operator==)
      .def("__hash__", [](const ArrayLayout& l) { return py::hash(py::str(repr(l))); })
      .def("__repr__", &repr)
      .def(py::pickle(
          [](const ArrayLayout& l) {
            return py::make_tuple(l.shape, l.pads, l.strides, l.period, l.slots, l.chunk_rows,
                                  l.n_chunks);
          },
          [](const py::tuple& t) {
            return make_layout(
                t[0].cast<std::vector<std::int64_t>>(), t[1].cast<std::vector<std::int64_t>>(),
                t[2].cast<std::vector<std::int64_t>>(), t[3].cast<std::int64_t>(),
                t[4].cast<std::int64_t>(), t[5].cast<std::int64_t>(), t[6].cast<std::int64_t>());
          }));

  p.def("plan_array", &packing::plan_array, py::arg("shape"), py::arg("slots"), R"doc(
Canonical row-major layout of an array of ``shape``: axes padded to powers of two, split along
axis 0 over several ciphertexts when it does not fit one.

>>> from hetensor._core import packing
>>> packing.plan_array((3, 4), 64).strides
(4, 1)
)doc");

  p.def(
      "encode_array",
      [](const DoubleArray& values, const ArrayLayout& layout) {
        if (values.size() != layout.size()) {
          throw std::invalid_argument("values has " + std::to_string(values.size()) +
                                      " elements, the layout holds " +
                                      std::to_string(layout.size()));
        }
        DoubleArray out({layout.n_chunks, layout.slots});
        const double* src = values.data();
        double* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          packing::encode_array(src, layout, dst);
        }
        return out;
      },
      py::arg("values"), py::arg("layout"),
      R"doc(Slot vectors ``(n_chunks, slots)`` for ``values`` (C order) in ``layout``;
raises ``hetensor.errors.NonFiniteError`` on NaN/inf.)doc");

  p.def(
      "decode_array",
      [](const DoubleArray& slot_values, const ArrayLayout& layout, bool average) {
        if (slot_values.ndim() != 2 || slot_values.shape(0) != layout.n_chunks) {
          throw std::invalid_argument("slot_values must have shape (n_chunks, slots)");
        }
        DoubleArray out(layout.shape);
        const double* src = slot_values.data();
        double* dst = out.mutable_data();
        const std::int64_t n = slot_values.shape(1);
        {
          py::gil_scoped_release release;
          packing::decode_array(src, n, layout, average, dst);
        }
        return out;
      },
      py::arg("slot_values"), py::arg("layout"), py::arg("average") = true,
      R"doc(The array held by decoded slot vectors; ``average`` takes the mean of replicas.)doc");

  p.def("reduce_steps", &packing::reduce_steps, py::arg("layout"), py::arg("axis"),
        R"doc(Rotation steps of a sum over ``axis``: log2(pads[axis]) of them.)doc");

  p.def(
      "reduced_layout",
      [](const ArrayLayout& l, std::int64_t axis, bool keepdims) {
        bool cyclic = false;
        ArrayLayout r = packing::reduced_layout(l, axis, keepdims, cyclic);
        return py::make_tuple(r, cyclic);
      },
      py::arg("layout"), py::arg("axis"), py::arg("keepdims") = false,
      R"doc(``(layout, cyclic)`` after a sum over ``axis``; ``cyclic`` when every position along
the axis holds the sum (the axis held the block's top bits).)doc");

  p.def("transpose_layout", &packing::transpose_layout, py::arg("layout"), py::arg("axes"),
        R"doc(The layout with axes permuted: no data moves.)doc");

  p.def(
      "plan_relayout",
      [](const ArrayLayout& src, const ArrayLayout& dst, const IndexArray& source_index) {
        if (source_index.ndim() != 1 || source_index.shape(0) != dst.size()) {
          throw std::invalid_argument("source_index must have one entry per destination element");
        }
        bool free_move = false;
        std::vector<packing::RelayoutTerm> terms;
        const std::int64_t* idx = source_index.data();
        {
          py::gil_scoped_release release;
          terms = packing::plan_relayout(src, dst, idx, free_move);
        }
        py::list out;
        for (auto& t : terms) {
          DoubleArray mask(static_cast<py::ssize_t>(t.mask.size()));
          std::copy(t.mask.begin(), t.mask.end(), mask.mutable_data());
          out.append(py::make_tuple(t.dst_chunk, t.src_chunk, t.rotation, mask));
        }
        return py::make_tuple(out, free_move);
      },
      py::arg("src"), py::arg("dst"), py::arg("source_index"), R"doc(
Plan a data movement: destination element ``e`` (C order) takes source element
``source_index[e]``. Returns ``(terms, free_move)`` with terms
``(dst_chunk, src_chunk, rotation, mask)``: each destination chunk is the sum of
``mask * rotate(src[src_chunk], rotation)``. ``free_move`` means the data is already in place.
)doc");

  p.def(
      "layout_mask",
      [](const ArrayLayout& l) {
        DoubleArray out({l.n_chunks, l.slots});
        packing::layout_mask(l, out.mutable_data());
        return out;
      },
      py::arg("layout"), R"doc(0/1 mask ``(n_chunks, slots)`` of the slots holding elements.)doc");

  py::class_<BsgsPlan>(p, "BsgsPlan", R"doc(
Baby-step giant-step plan of a diagonal (Halevi-Shoup) matrix-vector product on an ``n x n``
(padded) matrix in the doubled diagonal layout: ``len(baby_steps) + len(block_steps) +
len(giant_steps)`` rotations instead of ``n``.
)doc")
      .def_readonly("n", &BsgsPlan::n)
      .def_readonly("baby", &BsgsPlan::baby)
      .def_readonly("giant", &BsgsPlan::giant)
      .def_readonly("slots", &BsgsPlan::slots)
      .def_readonly("baby_steps", &BsgsPlan::baby_steps)
      .def_readonly("block_steps", &BsgsPlan::block_steps)
      .def_readonly("giant_steps", &BsgsPlan::giant_steps)
      .def("__repr__", [](const BsgsPlan& b) {
        return "BsgsPlan(n=" + std::to_string(b.n) + ", baby=" + std::to_string(b.baby) +
               ", giant=" + std::to_string(b.giant) + ", slots=" + std::to_string(b.slots) + ")";
      });

  p.def(
      "plan_bsgs", &packing::plan_bsgs, py::arg("n"), py::arg("slots"),
      R"doc(BSGS plan for an ``n x n`` matrix (padded to a power of two); needs 2n^2 <= slots.)doc");

  p.def(
      "encode_diagonals",
      [](const DoubleArray& matrix, const BsgsPlan& plan) {
        if (matrix.ndim() != 2) throw std::invalid_argument("matrix must be 2-D");
        DoubleArray out(plan.slots);
        const double* src = matrix.data();
        double* dst = out.mutable_data();
        const std::int64_t rows = matrix.shape(0), cols = matrix.shape(1);
        {
          py::gil_scoped_release release;
          packing::encode_diagonals(src, rows, cols, plan, dst);
        }
        return out;
      },
      py::arg("matrix"), py::arg("plan"),
      R"doc(Slot vector of the doubled, pre-rotated diagonals of ``matrix`` for ``plan``.)doc");

  p.def(
      "decode_diagonals",
      [](const DoubleArray& slot_values, const BsgsPlan& plan, std::int64_t rows,
         std::int64_t cols) {
        if (slot_values.ndim() != 1) throw std::invalid_argument("slot_values must be 1-D");
        DoubleArray out({rows, cols});
        packing::decode_diagonals(slot_values.data(), slot_values.shape(0), plan, rows, cols,
                                  out.mutable_data());
        return out;
      },
      py::arg("slot_values"), py::arg("plan"), py::arg("rows"), py::arg("cols"),
      R"doc(The ``(rows, cols)`` matrix held in the doubled diagonal layout of ``plan``.)doc");

  p.def(
      "bsgs_masks",
      [](const BsgsPlan& plan) {
        DoubleArray out({plan.baby, plan.slots});
        packing::bsgs_masks(plan, out.mutable_data());
        return out;
      },
      py::arg("plan"), R"doc(Masks ``(baby, slots)`` selecting each baby step's blocks.)doc");
}

}  // namespace hetensor::bindings
