#pragma once
// One register_<area> function per binding file; module.cpp calls them all.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

namespace hetensor::bindings {

void register_errors(pybind11::module_& m);
void register_runtime(pybind11::module_& m);
void register_packing(pybind11::module_& m);
void register_array_layout(pybind11::module_& m);  // after register_packing
void register_conv(pybind11::module_& m);
void register_linalg(pybind11::module_& m);
void register_nn(pybind11::module_& m);

// NumPy-style shape text of an array, e.g. "(3,4)" or "(5,)", for error messages.
inline std::string shape_str(const pybind11::array& a) {
  std::string s = "(";
  for (pybind11::ssize_t i = 0; i < a.ndim(); ++i) {
    s += std::to_string(a.shape(i));
    if (i + 1 < a.ndim() || a.ndim() == 1) s += ",";
  }
  return s + ")";
}

}  // namespace hetensor::bindings
