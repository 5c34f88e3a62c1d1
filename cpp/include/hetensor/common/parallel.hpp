#pragma once
// A small std::thread parallel-for for plaintext kernels. No OpenMP: the openfhe wheel ships
// its own libgomp, and two OpenMP runtimes in one process are trouble.

#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace hetensor {

// Threads kernels use by default: HETENSOR_NUM_THREADS, else OMP_NUM_THREADS, else the
// hardware concurrency (at least 1).
int default_num_threads();

// Calls fn(begin, end) on contiguous chunks of [0, n) from up to `num_threads` threads
// (<= 0: default_num_threads()). Runs inline when one chunk suffices. The first exception
// thrown by any chunk is rethrown after all threads have joined.
template <typename Fn>
void parallel_for(std::int64_t n, Fn&& fn, int num_threads = 0) {
  if (n <= 0) return;
  std::int64_t threads = num_threads > 0 ? num_threads : default_num_threads();
  threads = std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n));
  if (threads == 1) {
    fn(std::int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
  pool.reserve(static_cast<std::size_t>(threads - 1));
  const std::int64_t chunk = (n + threads - 1) / threads;
  auto run = [&](std::int64_t t) {
    const std::int64_t begin = t * chunk;
    const std::int64_t end = std::min(n, begin + chunk);
    if (begin >= end) return;
    try {
      fn(begin, end);
    } catch (...) {
      errors[static_cast<std::size_t>(t)] = std::current_exception();
    }
  };
  for (std::int64_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace hetensor
