#pragma once
// Slot layouts of N-d arrays in packed CKKS ciphertexts, and the plans that move data
// between them.
//
// A *bit-field layout* gives every axis k a power-of-two padded extent pads[k] and a
// power-of-two slot stride strides[k]; the slot of element (i_0, ..., i_{n-1}) inside a block
// of `period` slots is sum_k i_k * strides[k], and the axes' bit ranges
// [log2 strides[k], log2 (strides[k] * pads[k])) are disjoint. The block repeats over all
// slots (slots / period copies), so a rotation by r acts cyclically modulo `period`.
// Consequences: a transpose permutes (strides, pads) without moving data; a sum over axis k is
// log2(pads[k]) rotations by strides[k] * 2^j; an array whose period divides another layout's
// row stride broadcasts into it for free.
//
// Arrays too large for one ciphertext are split along axis 0 into `n_chunks` ciphertexts of
// `chunk_rows` rows (pads[0] == chunk_rows then), each with the same tile layout.
//
// Any data movement that is not free is a *relayout*: for each destination slot the source
// slot is known, so the destination is sum_r mask_r * rotate(source, r), grouped by rotation
// amount r (reduced modulo the source period) and by (destination, source) chunk. All
// rotations of one source share OpenFHE's hoisted precomputation.

#include <cstdint>
#include <vector>

namespace hetensor::packing {

struct ArrayLayout {
  std::vector<std::int64_t> shape;    // logical shape
  std::vector<std::int64_t> pads;     // per-axis padded extent (powers of two); pads[0] is
                                      // the per-chunk extent when chunked
  std::vector<std::int64_t> strides;  // per-axis slot stride (powers of two)
  std::int64_t period = 1;            // block size: content repeats every `period` slots
  std::int64_t slots = 1;             // ciphertext slots
  std::int64_t chunk_rows = 1;        // rows of axis 0 per ciphertext (1 for 0-d)
  std::int64_t n_chunks = 1;

  std::int64_t ndim() const { return static_cast<std::int64_t>(shape.size()); }
  std::int64_t size() const;
  bool operator==(const ArrayLayout& o) const {
    return shape == o.shape && pads == o.pads && strides == o.strides && period == o.period &&
           slots == o.slots && chunk_rows == o.chunk_rows && n_chunks == o.n_chunks;
  }
  // Chunk and slot (first copy) of the element with flat C-order index `flat`.
  void locate(std::int64_t flat, std::int64_t& chunk, std::int64_t& slot) const;
};

// Checks the invariants; throws std::invalid_argument naming the broken one.
void validate(const ArrayLayout& layout);

// Canonical row-major layout: pads = next_pow2(shape), last axis fastest, split along axis 0
// when the padded array exceeds `slots`. Throws CapacityError when one padded row of the
// trailing axes exceeds `slots`.
ArrayLayout plan_array(const std::vector<std::int64_t>& shape, std::int64_t slots);

// Slot vectors (n_chunks x slots, row-major) holding `values` (C-order, layout.size()
// doubles): zero where no element sits, each block replicated `slots / period` times.
// Throws NonFiniteError naming the first NaN or infinity.
void encode_array(const double* values, const ArrayLayout& layout, double* out);

// Elements (C-order) from decoded slot vectors (n_chunks x n_slots); with `average`, each
// element is the mean over its replicas.
void decode_array(const double* slot_values, std::int64_t n_slots, const ArrayLayout& layout,
                  bool average, double* out);

// Rotation steps of a sum over `axis`: strides[axis] * 2^j for 2^j < pads[axis].
std::vector<std::int64_t> reduce_steps(const ArrayLayout& layout, std::int64_t axis);

// Layout after summing over `axis` (the sums sit where the axis index is 0). Sets
// `cyclic` when the axis holds the top bits of the block, so every position along it holds
// the sum (the result is then exact everywhere, not only at index 0).
ArrayLayout reduced_layout(const ArrayLayout& layout, std::int64_t axis, bool keepdims,
                           bool& cyclic);

// Layout with axes permuted (no data movement). Single-chunk layouts only.
ArrayLayout transpose_layout(const ArrayLayout& layout, const std::vector<std::int64_t>& axes);

// One term of a relayout: destination chunk += mask * rotate(source chunk, rotation).
struct RelayoutTerm {
  std::int64_t dst_chunk = 0;
  std::int64_t src_chunk = 0;
  std::int64_t rotation = 0;  // in [0, slots)
  std::vector<double> mask;   // `slots` zeros and ones
};

// Plan moving data from `src` to `dst`: element e of dst (C-order) takes element
// source_index[e] of src (-1: the element comes from elsewhere and stays zero here). Destination
// replicas are filled too. Terms are sorted by (src_chunk, rotation, dst_chunk). `free_move` is set
// when the source ciphertexts already hold every destination element in place (same chunking, all
// rotations zero, no mask needed): the data need not move at all.
std::vector<RelayoutTerm> plan_relayout(const ArrayLayout& src, const ArrayLayout& dst,
                                        const std::int64_t* source_index, bool& free_move);

// 0/1 mask (n_chunks x slots) of the slots that hold elements of `layout` (all replicas).
void layout_mask(const ArrayLayout& layout, double* out);

// ---- diagonal (Halevi-Shoup) matrix-vector products with baby-step giant-step -------------
//
// For an n x n matrix padded to P (power of two) the "doubled diagonal" layout puts diagonal
// i (d_i[j] = A[j, (j + i) mod P], pre-rotated by -g*B for i = g*B + b) twice in a block of
// 2P slots: slot i*2P + j and i*2P + P + j, for j < P. With x replicated with period P,
//   y = sum_g rot( sum_b diag'_{gB+b} * rot(x, b), g*B*2P + g*B )
// leaves y in slots [0, P). Needs 2*P*P <= slots.
struct BsgsPlan {
  std::int64_t n = 0;      // padded size P
  std::int64_t baby = 1;   // B
  std::int64_t giant = 1;  // G, B * G == P
  std::int64_t slots = 1;
  std::vector<std::int64_t> baby_steps;   // 1 .. B-1 (rotations of x)
  std::vector<std::int64_t> block_steps;  // 2P, 4P, ..., B*P (sum over baby blocks)
  std::vector<std::int64_t> giant_steps;  // g*B*2P + g*B for g = 1 .. G-1
};

BsgsPlan plan_bsgs(std::int64_t n, std::int64_t slots);

// Doubled, pre-rotated diagonals of `matrix` (rows x cols, C-order, rows, cols <= plan.n)
// into `out` (plan.slots doubles). Throws NonFiniteError on NaN/inf.
void encode_diagonals(const double* matrix, std::int64_t rows, std::int64_t cols,
                      const BsgsPlan& plan, double* out);

// Inverse of encode_diagonals: the rows x cols matrix held by a decoded slot vector.
void decode_diagonals(const double* slot_values, std::int64_t n_slots, const BsgsPlan& plan,
                      std::int64_t rows, std::int64_t cols, double* out);

// B masks (B x slots): mask b selects the 2P-blocks i with i mod B == b.
void bsgs_masks(const BsgsPlan& plan, double* out);

}  // namespace hetensor::packing
