// Build and runtime facts: BLAS in use, whether CUDA parts were compiled, device count.

#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"
#include "hetensor/common/simd.hpp"
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

  m.def(
      "simd_isa", []() { return std::string(simd::isa_name(simd::active_isa())); },
      R"doc(Instruction set of the register-tiled kernels (the recurrent step GEMM and the dense
power-iteration product): "avx512", "avx2" (with FMA) or "baseline"; the widest this CPU
supports unless capped by set_simd_isa_cap.)doc");
  m.def(
      "set_simd_isa_cap",
      [](const std::string& name) {
        const simd::Isa isas[] = {simd::Isa::kBaseline, simd::Isa::kAvx2, simd::Isa::kAvx512};
        for (simd::Isa isa : isas) {
          if (name == simd::isa_name(isa)) {
            simd::set_isa_cap(isa);
            return;
          }
        }
        throw std::invalid_argument("ISA must be 'avx512', 'avx2' or 'baseline', got '" + name +
                                    "'");
      },
      py::arg("isa"),
      R"doc(Caps simd_isa() at `isa` ("avx512" lifts the cap), so tests can run the narrower
kernels on a wider CPU. Applies to kernels started afterwards.)doc");

  py::module_ cuda =
      m.def_submodule("cuda", "CUDA runtime queries (0 devices without a CUDA build).");
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
