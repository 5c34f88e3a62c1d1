#pragma once
// Private to cpp/src/conv: running work items on our threads while each makes its own BLAS or
// LAPACK calls.

#include <cstdint>
#include <optional>

#include "hetensor/common/blas.hpp"
#include "hetensor/common/parallel.hpp"

namespace hetensor::conv::detail {

// Runs fn(begin, end) over work items on our threads. Each of our threads then makes its own
// (cache-sized) BLAS calls, so OpenBLAS must not fan each call out to its own threads meanwhile:
// a blas::ScopedSingleThread holds its count at 1. That guard is shared with the other kernels
// (the recurrent layers, the eigensolvers), which may run at the same time on other Python
// threads with the GIL released; a guard of our own would race with theirs on the process-wide
// count. With a single item (or thread) no guard is taken, so OpenBLAS keeps its own threads for
// the one big call.
template <typename Fn>
void run_items(std::int64_t items, int threads, Fn&& fn) {
  const int t = threads > 0 ? threads : default_num_threads();
  const bool parallel = t > 1 && items > 1;
  std::optional<blas::ScopedSingleThread> single_threaded_blas;
  if (parallel) single_threaded_blas.emplace();
  parallel_for(items, fn, parallel ? t : 1);
}

}  // namespace hetensor::conv::detail
