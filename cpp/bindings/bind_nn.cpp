// _core.nn: recurrent layers (placeholder until the kernels land).
#include "bindings.hpp"

namespace py = pybind11;

namespace hetensor::bindings {

void register_nn(py::module_& m) { m.def_submodule("nn", "Recurrent-layer kernels."); }

}  // namespace hetensor::bindings
