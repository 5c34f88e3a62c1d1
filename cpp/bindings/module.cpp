#include <pybind11/pybind11.h>

#include "bindings.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "hetensor's C++ core: packing planner and plaintext kernels.";
  m.attr("__version__") = HETENSOR_VERSION;
  hetensor::bindings::register_errors(m);
  hetensor::bindings::register_runtime(m);
  hetensor::bindings::register_packing(m);
  hetensor::bindings::register_array_layout(m);
  hetensor::bindings::register_conv(m);
  hetensor::bindings::register_linalg(m);
  hetensor::bindings::register_nn(m);
}
