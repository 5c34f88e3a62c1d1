// Maps the C++ domain errors onto the classes of the same name in hetensor.errors.

#include <exception>

#include "bindings.hpp"
#include "hetensor/common/error.hpp"

namespace py = pybind11;

namespace hetensor::bindings {

namespace {

// Sets the pending Python error to hetensor.errors.<name>(what). A translator must not throw,
// so a failure to import hetensor.errors leaves that ImportError pending instead.
void set_hetensor_error(const char* name, const char* what) {
  try {
    py::set_error(py::module_::import("hetensor.errors").attr(name), what);
  } catch (py::error_already_set& err) {
    err.restore();
  }
}

}  // namespace

void register_errors(py::module_& /*m*/) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const NonFiniteError& e) {
      set_hetensor_error("NonFiniteError", e.what());
    } catch (const CapacityError& e) {
      set_hetensor_error("CapacityError", e.what());
    }
  });
}

}  // namespace hetensor::bindings
