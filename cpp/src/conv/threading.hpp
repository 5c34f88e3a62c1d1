#pragma once
// Private to cpp/src/conv: running work items on our threads while each makes its own BLAS or
// LAPACK calls.

#include <cstdint>

#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"

namespace hetensor::conv::detail {

// Each of our threads makes its own (cache-sized) BLAS calls, so OpenBLAS must not fan each call
// out to its own threads meanwhile: its thread count is 1 while this lives, then restored.
class SerialBlas {
 public:
  explicit SerialBlas(bool on) : prev_(on ? blas::num_threads() : 1) {
    if (prev_ > 1) blas::set_num_threads(1);
  }
  ~SerialBlas() {
    if (prev_ > 1) blas::set_num_threads(prev_);
  }
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int prev_;
};

// Runs fn(begin, end) over work items on our threads; with a single item (or thread) OpenBLAS
// keeps its own threads for the one big call instead.
template <typename Fn>
void run_items(std::int64_t items, int threads, Fn&& fn) {
  const int t = threads > 0 ? threads : default_num_threads();
  const bool parallel = t > 1 && items > 1;
  SerialBlas guard(parallel);
  parallel_for(items, fn, parallel ? t : 1);
}

}  // namespace hetensor::conv::detail
