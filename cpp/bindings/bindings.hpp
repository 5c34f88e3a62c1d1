#pragma once
// One register_<area> function per binding file; module.cpp calls them all.

#include <pybind11/pybind11.h>

namespace hetensor::bindings {

void register_errors(pybind11::module_& m);
void register_runtime(pybind11::module_& m);
void register_packing(pybind11::module_& m);
void register_linalg(pybind11::module_& m);
void register_nn(pybind11::module_& m);

}  // namespace hetensor::bindings
