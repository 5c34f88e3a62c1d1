#include "hetensor/nn/cell_math.hpp"

#include <stdexcept>

#include "hetensor/common/simd.hpp"

namespace hetensor::nn::math {

namespace {

template <typename T>
HETENSOR_INLINE void activation_impl(Activation fn, std::int64_t n, const T* __restrict x,
                                     T* __restrict y) {
  switch (fn) {
    case Activation::kExp:
      for (std::int64_t i = 0; i < n; ++i) y[i] = fast_exp(x[i]);
      return;
    case Activation::kExpm1:
      for (std::int64_t i = 0; i < n; ++i) y[i] = fast_expm1(x[i]);
      return;
    case Activation::kSigmoid:
      for (std::int64_t i = 0; i < n; ++i) y[i] = sigmoid(x[i]);
      return;
    case Activation::kTanh:
      for (std::int64_t i = 0; i < n; ++i) y[i] = tanh(x[i]);
      return;
  }
  throw std::invalid_argument("unknown activation");
}

}  // namespace

HETENSOR_CLONES void activation(Activation fn, std::int64_t n, const float* x, float* y) {
  activation_impl(fn, n, x, y);
}

HETENSOR_CLONES void activation(Activation fn, std::int64_t n, const double* x, double* y) {
  activation_impl(fn, n, x, y);
}

}  // namespace hetensor::nn::math
