#pragma once
// Element-wise math of the recurrent cells, shared by the CPU kernels and (HETENSOR_HD) device
// code. exp, expm1, sigmoid and tanh are branch-free (clamps are selects, the scale 2^k is
// built from the bits of the rounded exponent), so loops over them vectorize: the cell passes
// in recurrent.cpp are HETENSOR_CLONES functions and run 16 floats / 8 doubles per AVX-512
// instruction (std::exp / std::tanh do not vectorize without -ffast-math).
//
// Method: Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, and a Taylor polynomial for e^r
// (float: degree 7, double: degree 13). tanh(x) = expm1(2x) / (expm1(2x) + 2), where expm1 is
// exact to a few ulp near 0 (k = 0 there), so tanh keeps its relative accuracy for tiny x and
// tanh(0) = 0 exactly; |x| is clamped where tanh rounds to +-1 (9 for float, 20 for double).
// Measured against NumPy in extended precision over [-100, 100] plus tiny |x| (tests/nn/
// test_cell_math.py, bound 3 ulp): exp 1.0 ulp, expm1 1.8, sigmoid and tanh 2.5 ulp worst, in
// float and double alike; large |x| saturates (no inf, no NaN: sigmoid -> 0 or 1, tanh -> -1
// or 1).

#include <cstdint>
#include <cstring>

#include "hetensor/common/hd.hpp"

namespace hetensor::nn::math {

template <typename To, typename From>
HETENSOR_HD inline To bits_as(From v) {
  static_assert(sizeof(To) == sizeof(From), "size mismatch");
  To out;
  std::memcpy(&out, &v, sizeof(To));
  return out;
}

template <typename T>
HETENSOR_HD inline T clamp(T x, T lo, T hi) {
  // Two unconditional compares and selects (max, min; NaN passes through). The nested form
  // x < lo ? lo : (x > hi ? hi : x) compares conditionally, which GCC will not if-convert
  // (a float compare may trap), and the loop stays scalar.
  const T a = x < lo ? lo : x;
  return a > hi ? hi : a;
}

// x = k ln2 + r: returns 2^k in `scale` and e^r - 1 (accurate relative to r, not only to 1).
HETENSOR_HD inline double reduced_expm1(double x, double& scale) {
  const double shifter = 6755399441055744.0;  // 1.5 * 2^52: rounds to an integer in the low bits
  const double kd = x * 1.4426950408889634 + shifter;
  const double k = kd - shifter;
  const double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  const std::uint64_t ki = bits_as<std::uint64_t>(kd);  // low bits hold k (two's complement)
  scale = bits_as<double>((ki + 1023u) << 52);
  return r + (r * r) * p;
}

HETENSOR_HD inline float reduced_expm1(float x, float& scale) {
  const float shifter = 12582912.0f;  // 1.5 * 2^23
  const float kf = x * 1.44269504f + shifter;
  const float k = kf - shifter;
  const float r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  const std::uint32_t ki = bits_as<std::uint32_t>(kf);
  scale = bits_as<float>((ki + 127u) << 23);
  return r + (r * r) * p;
}

// Largest |x| passed to the reduction: 2^k stays a normal number, e^x finite.
template <typename T>
struct ExpLimits;
template <>
struct ExpLimits<double> {
  static constexpr double lo = -708.0, hi = 709.0, tanh_sat = 20.0;
};
template <>
struct ExpLimits<float> {
  static constexpr float lo = -87.0f, hi = 88.0f, tanh_sat = 9.0f;
};

// e^x, x clamped to [lo, hi] (no overflow to inf, no subnormals).
template <typename T>
HETENSOR_HD inline T fast_exp(T x) {
  T scale;
  const T em = reduced_expm1(clamp(x, ExpLimits<T>::lo, ExpLimits<T>::hi), scale);
  return scale * em + scale;
}

// e^x - 1, x clamped as fast_exp.
template <typename T>
HETENSOR_HD inline T fast_expm1(T x) {
  T scale;
  const T em = reduced_expm1(clamp(x, ExpLimits<T>::lo, ExpLimits<T>::hi), scale);
  return scale * em + (scale - T(1));
}

template <typename T>
HETENSOR_HD inline T sigmoid(T x) {
  return T(1) / (T(1) + fast_exp(-x));
}

template <typename T>
HETENSOR_HD inline T tanh(T x) {
  const T e = fast_expm1(T(2) * clamp(x, -ExpLimits<T>::tanh_sat, ExpLimits<T>::tanh_sat));
  return e / (e + T(2));
}

// Array forms of the functions above, the same element code in HETENSOR_CLONES loops (the
// AVX-512 / AVX2 / baseline clone of the running machine), for tests and other callers.
enum class Activation { kExp, kExpm1, kSigmoid, kTanh };

void activation(Activation fn, std::int64_t n, const float* x, float* y);
void activation(Activation fn, std::int64_t n, const double* x, double* y);

}  // namespace hetensor::nn::math
