#include "hetensor/packing/array_layout.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

#include "hetensor/common/error.hpp"
#include "hetensor/packing/layout.hpp"

namespace hetensor::packing {

namespace {

bool is_pow2(std::int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += std::to_string(shape[i]);
    if (shape.size() == 1 || i + 1 < shape.size()) s += ",";
    if (i + 1 < shape.size()) s += " ";
  }
  return s + ")";
}

std::int64_t positive_mod(std::int64_t a, std::int64_t m) {
  const std::int64_t r = a % m;
  return r < 0 ? r + m : r;
}

void check_finite(const double* values, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      throw NonFiniteError("input holds a non-finite value (" + std::to_string(values[i]) +
                           ") at flat index " + std::to_string(i) +
                           "; CKKS can only encrypt finite numbers");
    }
  }
}

}  // namespace

std::int64_t ArrayLayout::size() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

void ArrayLayout::locate(std::int64_t flat, std::int64_t& chunk, std::int64_t& slot) const {
  slot = 0;
  chunk = 0;
  for (std::int64_t k = ndim() - 1; k >= 0; --k) {
    const std::int64_t extent = shape[static_cast<std::size_t>(k)];
    std::int64_t idx = flat % extent;
    flat /= extent;
    if (k == 0 && n_chunks > 1) {
      chunk = idx / chunk_rows;
      idx %= chunk_rows;
    }
    slot += idx * strides[static_cast<std::size_t>(k)];
  }
}

void validate(const ArrayLayout& l) {
  const std::size_t nd = l.shape.size();
  if (l.pads.size() != nd || l.strides.size() != nd) {
    throw std::invalid_argument("layout: shape, pads and strides differ in length");
  }
  if (!is_pow2(l.slots) || !is_pow2(l.period) || l.period > l.slots) {
    throw std::invalid_argument("layout: slots and period must be powers of two, period <= slots");
  }
  if (l.n_chunks < 1 || l.chunk_rows < 1) throw std::invalid_argument("layout: bad chunking");
  std::int64_t used_bits = 0;  // bitmask of slot-index bits claimed by axes
  for (std::size_t k = 0; k < nd; ++k) {
    const std::int64_t d = l.shape[k], p = l.pads[k], s = l.strides[k];
    if (d < 1) throw std::invalid_argument("layout: empty axes are not supported");
    if (!is_pow2(p) || !is_pow2(s)) {
      throw std::invalid_argument("layout: pads and strides must be powers of two");
    }
    const std::int64_t per_chunk = (k == 0 && l.n_chunks > 1) ? l.chunk_rows : d;
    if (per_chunk > p) throw std::invalid_argument("layout: pad smaller than the axis");
    if (s * p > l.period) throw std::invalid_argument("layout: axis exceeds the block");
    const std::int64_t bits = (p - 1) * s;  // the axis' bit range, as a mask
    if (used_bits & bits) throw std::invalid_argument("layout: axes overlap in slot bits");
    used_bits |= bits;
  }
  if (l.n_chunks > 1) {
    if (nd == 0 || l.chunk_rows != l.pads[0] || (l.n_chunks - 1) * l.chunk_rows >= l.shape[0] ||
        l.n_chunks * l.chunk_rows < l.shape[0]) {
      throw std::invalid_argument("layout: inconsistent chunking along axis 0");
    }
  }
}

ArrayLayout plan_array(const std::vector<std::int64_t>& shape, std::int64_t slots) {
  if (!is_pow2(slots)) {
    throw std::invalid_argument("slot count must be a power of two, got " + std::to_string(slots));
  }
  ArrayLayout l;
  l.shape = shape;
  l.slots = slots;
  const std::size_t nd = shape.size();
  l.pads.assign(nd, 1);
  l.strides.assign(nd, 1);
  std::int64_t stride = 1;
  for (std::size_t kk = nd; kk-- > 0;) {
    if (shape[kk] < 1) {
      throw std::invalid_argument("cannot pack an array with an empty axis: shape " +
                                  shape_str(shape));
    }
    l.pads[kk] = next_pow2(shape[kk]);
    l.strides[kk] = stride;
    stride *= l.pads[kk];
  }
  const std::int64_t row = nd == 0 ? 1 : stride / l.pads[0];  // slots of one axis-0 row
  if (row > slots) {
    throw CapacityError("one row of shape " + shape_str(shape) + " needs " + std::to_string(row) +
                        " slots but a ciphertext has " + std::to_string(slots));
  }
  if (stride <= slots) {
    l.period = stride;
    l.chunk_rows = nd == 0 ? 1 : shape[0];
    l.n_chunks = 1;
  } else {
    l.chunk_rows = slots / row;
    l.pads[0] = l.chunk_rows;
    l.period = slots;
    l.n_chunks = (shape[0] + l.chunk_rows - 1) / l.chunk_rows;
  }
  validate(l);
  return l;
}

void encode_array(const double* values, const ArrayLayout& l, double* out) {
  const std::int64_t n = l.size();
  check_finite(values, n);
  std::fill(out, out + l.n_chunks * l.slots, 0.0);
  for (std::int64_t e = 0; e < n; ++e) {
    std::int64_t chunk, slot;
    l.locate(e, chunk, slot);
    double* row = out + chunk * l.slots;
    for (std::int64_t s = slot; s < l.slots; s += l.period) row[s] = values[e];
  }
}

void decode_array(const double* slot_values, std::int64_t n_slots, const ArrayLayout& l,
                  bool average, double* out) {
  if (n_slots < l.slots) {
    throw std::invalid_argument("decoded slot vectors have " + std::to_string(n_slots) +
                                " values, the layout needs " + std::to_string(l.slots));
  }
  const std::int64_t copies = average ? l.slots / l.period : 1;
  const std::int64_t n = l.size();
  for (std::int64_t e = 0; e < n; ++e) {
    std::int64_t chunk, slot;
    l.locate(e, chunk, slot);
    const double* row = slot_values + chunk * n_slots;
    double acc = 0.0;
    for (std::int64_t c = 0; c < copies; ++c) acc += row[slot + c * l.period];
    out[e] = acc / static_cast<double>(copies);
  }
}

static std::int64_t check_axis(const ArrayLayout& l, std::int64_t axis) {
  if (axis < 0 || axis >= l.ndim()) {
    throw std::out_of_range("axis " + std::to_string(axis) + " is out of bounds for array of " +
                            "dimension " + std::to_string(l.ndim()));
  }
  return axis;
}

std::vector<std::int64_t> reduce_steps(const ArrayLayout& l, std::int64_t axis) {
  const auto k = static_cast<std::size_t>(check_axis(l, axis));
  std::vector<std::int64_t> steps;
  for (std::int64_t j = 1; j < l.pads[k]; j <<= 1) steps.push_back(j * l.strides[k]);
  return steps;
}

ArrayLayout reduced_layout(const ArrayLayout& l, std::int64_t axis, bool keepdims, bool& cyclic) {
  const auto k = static_cast<std::size_t>(check_axis(l, axis));
  if (k == 0 && l.n_chunks > 1) {
    throw std::invalid_argument("reduce over a chunked axis 0: sum the chunks first");
  }
  cyclic = l.strides[k] * l.pads[k] == l.period;
  ArrayLayout r = l;
  if (keepdims) {
    r.shape[k] = 1;
    r.pads[k] = 1;
  } else {
    r.shape.erase(r.shape.begin() + static_cast<std::ptrdiff_t>(k));
    r.pads.erase(r.pads.begin() + static_cast<std::ptrdiff_t>(k));
    r.strides.erase(r.strides.begin() + static_cast<std::ptrdiff_t>(k));
  }
  if (k == 0 && !r.shape.empty() && keepdims) r.chunk_rows = 1;
  if (r.shape.empty()) r.chunk_rows = 1;
  if (k == 0 && !keepdims && !r.shape.empty()) r.chunk_rows = r.shape[0];
  if (cyclic) {
    // every position along the reduced axis holds the sum: the block shrinks
    r.period = l.strides[k];
    for (std::size_t a = 0; a < r.strides.size(); ++a) {
      r.period = std::max(r.period, r.strides[a] * r.pads[a]);
    }
  }
  validate(r);
  return r;
}

ArrayLayout transpose_layout(const ArrayLayout& l, const std::vector<std::int64_t>& axes) {
  if (l.n_chunks > 1) {
    throw std::invalid_argument("transpose_layout needs a single-chunk layout");
  }
  if (static_cast<std::int64_t>(axes.size()) != l.ndim()) {
    throw std::invalid_argument("axes don't match array");
  }
  ArrayLayout r = l;
  std::vector<bool> seen(axes.size(), false);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto a = static_cast<std::size_t>(check_axis(l, axes[i]));
    if (seen[a]) throw std::invalid_argument("repeated axis in transpose");
    seen[a] = true;
    r.shape[i] = l.shape[a];
    r.pads[i] = l.pads[a];
    r.strides[i] = l.strides[a];
  }
  r.chunk_rows = r.shape.empty() ? 1 : r.shape[0];
  validate(r);
  return r;
}

std::vector<RelayoutTerm> plan_relayout(const ArrayLayout& src, const ArrayLayout& dst,
                                        const std::int64_t* source_index, bool& free_move) {
  if (src.slots != dst.slots) throw std::invalid_argument("relayout across slot counts");
  const std::int64_t n_src = src.size();
  const std::int64_t n_dst = dst.size();
  // element sitting at each first-copy slot of each destination chunk
  std::vector<std::int64_t> at(static_cast<std::size_t>(dst.n_chunks * dst.period), -1);
  std::vector<std::int64_t> src_chunk(static_cast<std::size_t>(n_dst));
  std::vector<std::int64_t> src_slot(static_cast<std::size_t>(n_dst));
  for (std::int64_t e = 0; e < n_dst; ++e) {
    const std::int64_t from = source_index[e];
    if (from == -1) continue;  // filled by another source (concatenate, stack)
    if (from < 0 || from >= n_src) {
      throw std::out_of_range("relayout source index " + std::to_string(from) + " out of range");
    }
    std::int64_t c, s;
    dst.locate(e, c, s);
    at[static_cast<std::size_t>(c * dst.period + s)] = e;
    src.locate(from, src_chunk[static_cast<std::size_t>(e)], src_slot[static_cast<std::size_t>(e)]);
  }
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::vector<double>> groups;
  free_move = src.n_chunks == dst.n_chunks;
  for (std::int64_t e = 0; e < n_dst; ++e) {
    if (source_index[e] == -1) free_move = false;
  }
  for (std::int64_t c = 0; c < dst.n_chunks; ++c) {
    for (std::int64_t s = 0; s < dst.slots; ++s) {
      const std::int64_t e = at[static_cast<std::size_t>(c * dst.period + s % dst.period)];
      if (e < 0) continue;
      const auto ue = static_cast<std::size_t>(e);
      const std::int64_t rot = positive_mod(src_slot[ue] - s, src.period);
      if (rot != 0 || src_chunk[ue] != c) free_move = false;
      auto& mask = groups[{src_chunk[ue], rot, c}];
      if (mask.empty()) mask.assign(static_cast<std::size_t>(dst.slots), 0.0);
      mask[static_cast<std::size_t>(s)] = 1.0;
    }
  }
  std::vector<RelayoutTerm> terms;
  terms.reserve(groups.size());
  for (auto& [key, mask] : groups) {
    RelayoutTerm t;
    t.src_chunk = std::get<0>(key);
    t.rotation = std::get<1>(key);
    t.dst_chunk = std::get<2>(key);
    t.mask = std::move(mask);
    terms.push_back(std::move(t));
  }
  return terms;
}

void layout_mask(const ArrayLayout& l, double* out) {
  std::fill(out, out + l.n_chunks * l.slots, 0.0);
  const std::int64_t n = l.size();
  for (std::int64_t e = 0; e < n; ++e) {
    std::int64_t chunk, slot;
    l.locate(e, chunk, slot);
    for (std::int64_t s = slot; s < l.slots; s += l.period) out[chunk * l.slots + s] = 1.0;
  }
}

BsgsPlan plan_bsgs(std::int64_t n, std::int64_t slots) {
  if (n < 1) throw std::invalid_argument("matrix size must be >= 1");
  BsgsPlan p;
  p.n = next_pow2(n);
  p.slots = slots;
  if (2 * p.n * p.n > slots) {
    throw CapacityError("the diagonal layout of a " + std::to_string(p.n) + " x " +
                        std::to_string(p.n) + " matrix needs " + std::to_string(2 * p.n * p.n) +
                        " slots; the ciphertext has " + std::to_string(slots));
  }
  // B * G = P with B >= G, both powers of two (B rotations are hoisted, so favour baby steps)
  std::int64_t log_n = 0;
  while ((std::int64_t{1} << log_n) < p.n) ++log_n;
  p.baby = std::int64_t{1} << ((log_n + 1) / 2);
  p.giant = p.n / p.baby;
  for (std::int64_t b = 1; b < p.baby; ++b) p.baby_steps.push_back(b);
  for (std::int64_t j = 1; j < p.baby; j <<= 1) p.block_steps.push_back(j * 2 * p.n);
  for (std::int64_t g = 1; g < p.giant; ++g) {
    p.giant_steps.push_back(g * p.baby * 2 * p.n + g * p.baby);
  }
  return p;
}

void encode_diagonals(const double* matrix, std::int64_t rows, std::int64_t cols, const BsgsPlan& p,
                      double* out) {
  if (rows < 1 || cols < 1 || rows > p.n || cols > p.n) {
    throw std::invalid_argument("matrix of shape (" + std::to_string(rows) + ", " +
                                std::to_string(cols) + ") does not fit the plan's " +
                                std::to_string(p.n) + " x " + std::to_string(p.n));
  }
  check_finite(matrix, rows * cols);
  std::fill(out, out + p.slots, 0.0);
  const std::int64_t P = p.n;
  for (std::int64_t i = 0; i < P; ++i) {
    const std::int64_t g = i / p.baby;
    double* block = out + i * 2 * P;
    for (std::int64_t j = 0; j < P; ++j) {
      // pre-rotated by -g*B: position j holds d_i[(j - g*B) mod P]
      const std::int64_t jj = positive_mod(j - g * p.baby, P);
      const std::int64_t col = (jj + i) % P;
      const double v = (jj < rows && col < cols) ? matrix[jj * cols + col] : 0.0;
      block[j] = v;
      block[j + P] = v;
    }
  }
}

void decode_diagonals(const double* slot_values, std::int64_t n_slots, const BsgsPlan& p,
                      std::int64_t rows, std::int64_t cols, double* out) {
  if (n_slots < 2 * p.n * p.n) throw std::invalid_argument("too few slot values for the plan");
  if (rows < 1 || cols < 1 || rows > p.n || cols > p.n) {
    throw std::invalid_argument("matrix shape does not fit the plan");
  }
  const std::int64_t P = p.n;
  for (std::int64_t i = 0; i < P; ++i) {
    const std::int64_t g = i / p.baby;
    const double* block = slot_values + i * 2 * P;
    for (std::int64_t j = 0; j < P; ++j) {
      const std::int64_t jj = positive_mod(j - g * p.baby, P);
      const std::int64_t col = (jj + i) % P;
      // both copies hold the value: average them
      if (jj < rows && col < cols) out[jj * cols + col] = 0.5 * (block[j] + block[j + P]);
    }
  }
}

void bsgs_masks(const BsgsPlan& p, double* out) {
  std::fill(out, out + p.baby * p.slots, 0.0);
  for (std::int64_t i = 0; i < p.n; ++i) {
    double* mask = out + (i % p.baby) * p.slots + i * 2 * p.n;
    std::fill(mask, mask + 2 * p.n, 1.0);
  }
}

}  // namespace hetensor::packing
