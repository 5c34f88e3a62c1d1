// _core.packing: slot layouts of vectors in CKKS ciphertexts, encoding and decoding.

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>

#include "bindings.hpp"
#include "hetensor/packing/layout.hpp"

namespace py = pybind11;

namespace hetensor::bindings {

namespace {

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

std::string repr(const packing::VectorLayout& l) {
  return "VectorLayout(length=" + std::to_string(l.length) +
         ", period=" + std::to_string(l.period) + ", copies=" + std::to_string(l.copies) +
         ", slots=" + std::to_string(l.slots) + ")";
}

const double* vector_data(const DoubleArray& a, const char* what) {
  if (a.ndim() != 1) {
    throw std::invalid_argument(std::string(what) + " must be 1-D, got " +
                                std::to_string(a.ndim()) + " dimensions");
  }
  return a.data();
}

}  // namespace

void register_packing(py::module_& m) {
  py::module_ p = m.def_submodule("packing", "Slot layouts and encoding for packed ciphertexts.");

  py::class_<packing::VectorLayout>(p, "VectorLayout", R"doc(
Where the elements of a 1-D vector sit in the slots of one ciphertext.

The vector occupies the first ``length`` slots of a block of ``period`` slots (a power of two,
zero padded); the block repeats ``copies`` times. With ``copies * period == slots`` the slot
vector is periodic, so rotating the ciphertext rotates every block cyclically.
)doc")
      .def(py::init([](std::int64_t length, std::int64_t period, std::int64_t copies,
                       std::int64_t slots) {
             packing::VectorLayout l;
             l.length = length;
             l.period = period;
             l.copies = copies;
             l.slots = slots;
             if (length < 1 || period < length || copies < 1 || copies * period > slots) {
               throw std::invalid_argument("inconsistent layout: " + repr(l));
             }
             return l;
           }),
           py::arg("length"), py::arg("period"), py::arg("copies"), py::arg("slots"))
      .def_readonly("length", &packing::VectorLayout::length)
      .def_readonly("period", &packing::VectorLayout::period)
      .def_readonly("copies", &packing::VectorLayout::copies)
      .def_readonly("slots", &packing::VectorLayout::slots)
      .def_property_readonly("replicated", &packing::VectorLayout::replicated)
      .def("__eq__", &packing::VectorLayout::operator==)
      .def("__hash__",
           [](const packing::VectorLayout& l) {
             return py::hash(py::make_tuple(l.length, l.period, l.copies, l.slots));
           })
      .def("__repr__", &repr)
      .def(py::pickle(
          [](const packing::VectorLayout& l) {
            return py::make_tuple(l.length, l.period, l.copies, l.slots);
          },
          [](const py::tuple& t) {
            packing::VectorLayout l;
            l.length = t[0].cast<std::int64_t>();
            l.period = t[1].cast<std::int64_t>();
            l.copies = t[2].cast<std::int64_t>();
            l.slots = t[3].cast<std::int64_t>();
            return l;
          }));

  p.def("plan_vector", &packing::plan_vector, py::arg("length"), py::arg("slots"),
        py::arg("replicate") = true, R"doc(
Plan the layout of a vector of ``length`` elements in a ciphertext with ``slots`` slots.

Raises ``hetensor.errors.CapacityError`` when ``length > slots`` and ``ValueError`` for
non-positive sizes or a slot count that is not a power of two.

>>> from hetensor._core import packing
>>> packing.plan_vector(5, 16)
VectorLayout(length=5, period=8, copies=2, slots=16)
)doc");

  p.def(
      "encode_vector",
      [](const DoubleArray& values, const packing::VectorLayout& layout) {
        const double* src = vector_data(values, "values");
        if (values.shape(0) != layout.length) {
          throw std::invalid_argument("values has " + std::to_string(values.shape(0)) +
                                      " elements, layout expects " + std::to_string(layout.length));
        }
        DoubleArray out(layout.slots);
        double* dst = out.mutable_data();
        {
          py::gil_scoped_release release;
          packing::encode_vector(src, layout, dst);
        }
        return out;
      },
      py::arg("values"), py::arg("layout"), R"doc(
Slot vector (``layout.slots`` doubles) holding ``values`` padded and replicated per ``layout``.

Raises ``hetensor.errors.NonFiniteError`` naming the first NaN or infinity.
)doc");

  p.def(
      "decode_vector",
      [](const DoubleArray& slot_values, const packing::VectorLayout& layout, bool average) {
        const double* src = vector_data(slot_values, "slot_values");
        DoubleArray out(layout.length);
        double* dst = out.mutable_data();
        const std::int64_t n = slot_values.shape(0);
        {
          py::gil_scoped_release release;
          packing::decode_vector(src, n, layout, average, dst);
        }
        return out;
      },
      py::arg("slot_values"), py::arg("layout"), py::arg("average") = true, R"doc(
The ``layout.length`` elements of a decoded slot vector; with ``average`` each element is the
mean of its replicas, which lowers CKKS noise by about ``sqrt(layout.copies)``.
)doc");

  p.def("rotation_sum_steps", &packing::rotation_sum_steps, py::arg("period"), R"doc(
Rotation steps (1, 2, 4, ..., period/2) of a rotate-and-sum that leaves the total of a
power-of-two block in each of its slots: log2(period) rotations instead of period - 1.
)doc");

  p.def("next_pow2", &packing::next_pow2, py::arg("n"),
        R"doc(Smallest power of two >= ``n`` (``n >= 1``).)doc");

  p.def("normalize_rotation", &packing::normalize_rotation, py::arg("k"), py::arg("slots"),
        R"doc(The rotation index in ``[0, slots)`` equivalent to rotating by ``k``.)doc");
}

}  // namespace hetensor::bindings
