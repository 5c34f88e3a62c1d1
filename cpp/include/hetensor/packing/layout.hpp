#pragma once
// Slot layouts: where the elements of a NumPy array sit in the slots of a CKKS ciphertext.
//
// A 1-D vector of `length` elements is placed in a block of `period` slots (the next power of
// two >= length, zero padded). With replication the block is repeated `copies = slots / period`
// times, so the slot vector is periodic: a rotation of the whole ciphertext by k is then a
// cyclic rotation by k of every block, and a rotate-and-sum over log2(period) steps leaves the
// block's total in every slot. Replicas also let decoding average out CKKS noise.

#include <cstdint>
#include <vector>

namespace hetensor::packing {

struct VectorLayout {
  std::int64_t length = 0;  // logical number of elements
  std::int64_t period = 1;  // block size: power of two >= length
  std::int64_t copies = 1;  // number of blocks holding the data
  std::int64_t slots = 1;   // slots of the ciphertext (power of two)

  bool replicated() const { return copies * period == slots; }
  bool operator==(const VectorLayout& other) const {
    return length == other.length && period == other.period && copies == other.copies &&
           slots == other.slots;
  }
};

// Smallest power of two >= n (n >= 1).
std::int64_t next_pow2(std::int64_t n);

// Plans the layout of a vector of `length` elements in a ciphertext with `slots` slots.
// Throws std::invalid_argument for non-positive sizes or a slot count that is not a power of
// two, and CapacityError when length > slots.
VectorLayout plan_vector(std::int64_t length, std::int64_t slots, bool replicate);

// Writes the slot vector for `values` (layout.length doubles) into `out` (layout.slots doubles).
// Throws NonFiniteError naming the first NaN or infinity.
void encode_vector(const double* values, const VectorLayout& layout, double* out);

// Reads `layout.length` values from a decoded slot vector of `n_slots` doubles. With
// `average`, each element is the mean over its replicas (noise falls by sqrt(copies)).
void decode_vector(const double* slot_values, std::int64_t n_slots, const VectorLayout& layout,
                   bool average, double* out);

// Rotation steps of a rotate-and-sum over one block: 1, 2, 4, ..., period / 2.
std::vector<std::int64_t> rotation_sum_steps(std::int64_t period);

// Maps a rotation by k (any sign) of a ciphertext with `slots` slots to the equivalent
// index in [0, slots), the form rotation keys are generated and looked up in.
std::int64_t normalize_rotation(std::int64_t k, std::int64_t slots);

}  // namespace hetensor::packing
