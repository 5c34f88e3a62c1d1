// Build and runtime facts: BLAS in use, whether CUDA parts were compiled, device count.

#include <string>

#include "bindings.hpp"
#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"
#if HETENSOR_HAS_CUDA
#include "hetensor/cuda/device.hpp"
#endif

namespace py = pybind11;

namespace hetensor::bindings {

void register_runtime(py::module_& m) {
  m.attr("has_cuda") = py::bool_(HETENSOR_HAS_CUDA != 0);

  m.def("blas_config", &blas::config,
        R"doc(OpenBLAS build string of the scipy-openblas32 library the kernels call.)doc");
  m.def("blas_num_threads", &blas::num_threads,
        R"doc(Number of threads OpenBLAS uses for one call.)doc");

  m.def("default_num_threads", &hetensor::default_num_threads,
        R"doc(Threads the plaintext kernels use by default (HETENSOR_NUM_THREADS, else
OMP_NUM_THREADS, else the number of cores).)doc");

  py::module_ cuda = m.def_submodule("cuda", "CUDA runtime queries (0 devices without a CUDA build).");
  cuda.def(
      "device_count",
      []() {
#if HETENSOR_HAS_CUDA
        return hetensor::cuda::device_count();
#else
        return 0;
#endif
      },
      R"doc(Number of usable CUDA devices; 0 when CUDA was not built or no device/driver exists.)doc");
}

}  // namespace hetensor::bindings
