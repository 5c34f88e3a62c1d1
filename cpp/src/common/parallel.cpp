#include "hetensor/common/parallel.hpp"

#include <cstdlib>
#include <string>

namespace hetensor {

namespace {

int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return 0;
  try {
    return std::max(0, std::stoi(v));
  } catch (...) {
    return 0;
  }
}

}  // namespace

int default_num_threads() {
  if (int n = env_int("HETENSOR_NUM_THREADS"); n > 0) return n;
  if (int n = env_int("OMP_NUM_THREADS"); n > 0) return n;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace hetensor
