#include "hetensor/common/blas.hpp"

#include <cblas.h>

namespace hetensor::blas {

std::string config() { return std::string(scipy_openblas_get_config()); }

int num_threads() { return scipy_openblas_get_num_threads(); }

}  // namespace hetensor::blas
