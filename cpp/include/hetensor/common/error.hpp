#pragma once
// Domain errors thrown by the C++ core. The bindings translate each one into the class of the
// same name in `hetensor.errors`, so Python code catches one hierarchy for both layers.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace hetensor {

// Input holds NaN or infinity where a finite number is required.
class NonFiniteError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Data does not fit the slots of one ciphertext (or another fixed capacity).
class CapacityError : public std::length_error {
 public:
  using std::length_error::length_error;
};

// Throws NonFiniteError naming `what` and the first entry of w[0, count) that is NaN or
// infinite (e.g. a user operator's output).
template <typename T>
void require_finite(const T* w, std::int64_t count, const char* what) {
  for (std::int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(w[i])) {
      throw NonFiniteError(std::string(what) + " is not finite (NaN or infinity in the " +
                           "operator's output, entry " + std::to_string(i) + ")");
    }
  }
}

}  // namespace hetensor
