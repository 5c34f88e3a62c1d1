#pragma once
// Domain errors thrown by the C++ core. The bindings translate each one into the class of the
// same name in `hetensor.errors`, so Python code catches one hierarchy for both layers.

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

}  // namespace hetensor
