#pragma once
// The one place that names OpenBLAS symbols (scipy-openblas32, prefixed with scipy_).

#include <string>

namespace hetensor::blas {

// OpenBLAS's build description, e.g. "OpenBLAS 0.3.30 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
std::string config();

// Number of threads OpenBLAS uses for one call.
int num_threads();

}  // namespace hetensor::blas
