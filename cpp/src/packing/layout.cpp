#include "hetensor/packing/layout.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "hetensor/common/error.hpp"

namespace hetensor::packing {

namespace {

bool is_pow2(std::int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

void check_slots(std::int64_t slots) {
  if (!is_pow2(slots)) {
    throw std::invalid_argument("slot count must be a positive power of two, got " +
                                std::to_string(slots));
  }
}

}  // namespace

std::int64_t next_pow2(std::int64_t n) {
  if (n < 1) throw std::invalid_argument("next_pow2 needs n >= 1, got " + std::to_string(n));
  std::int64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

VectorLayout plan_vector(std::int64_t length, std::int64_t slots, bool replicate) {
  check_slots(slots);
  if (length < 1) {
    throw std::invalid_argument("cannot pack an empty vector (length " + std::to_string(length) +
                                ")");
  }
  if (length > slots) {
    throw CapacityError("vector of length " + std::to_string(length) +
                        " does not fit in a ciphertext with " + std::to_string(slots) + " slots");
  }
  VectorLayout layout;
  layout.length = length;
  layout.period = next_pow2(length);
  layout.copies = replicate ? slots / layout.period : 1;
  layout.slots = slots;
  return layout;
}

void encode_vector(const double* values, const VectorLayout& layout, double* out) {
  for (std::int64_t i = 0; i < layout.length; ++i) {
    if (!std::isfinite(values[i])) {
      throw NonFiniteError("input holds a non-finite value (" + std::to_string(values[i]) +
                           ") at index " + std::to_string(i) +
                           "; CKKS can only encrypt finite numbers");
    }
  }
  for (std::int64_t s = 0; s < layout.slots; ++s) out[s] = 0.0;
  for (std::int64_t c = 0; c < layout.copies; ++c) {
    double* block = out + c * layout.period;
    for (std::int64_t i = 0; i < layout.length; ++i) block[i] = values[i];
  }
}

void decode_vector(const double* slot_values, std::int64_t n_slots, const VectorLayout& layout,
                   bool average, double* out) {
  const std::int64_t used = average ? layout.copies * layout.period : layout.length;
  if (n_slots < used) {
    throw std::invalid_argument("decoded slot vector has " + std::to_string(n_slots) +
                                " values, layout needs " + std::to_string(used));
  }
  const std::int64_t copies = average ? layout.copies : 1;
  for (std::int64_t i = 0; i < layout.length; ++i) {
    double acc = 0.0;
    for (std::int64_t c = 0; c < copies; ++c) acc += slot_values[c * layout.period + i];
    out[i] = acc / static_cast<double>(copies);
  }
}

std::vector<std::int64_t> rotation_sum_steps(std::int64_t period) {
  if (!is_pow2(period)) {
    throw std::invalid_argument("rotate-and-sum needs a power-of-two block, got " +
                                std::to_string(period));
  }
  std::vector<std::int64_t> steps;
  for (std::int64_t step = 1; step < period; step <<= 1) steps.push_back(step);
  return steps;
}

std::int64_t normalize_rotation(std::int64_t k, std::int64_t slots) {
  check_slots(slots);
  const std::int64_t r = k % slots;
  return r < 0 ? r + slots : r;
}

}  // namespace hetensor::packing
