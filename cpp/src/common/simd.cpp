#include "hetensor/common/simd.hpp"

#include <algorithm>
#include <atomic>

namespace hetensor::simd {

namespace {

std::atomic<int> isa_cap{static_cast<int>(Isa::kAvx512)};

Isa probe() {
#if HETENSOR_X86_DISPATCH
  // libgcc's probe checks CPUID and that the OS saves the wider registers (XGETBV).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kBaseline;
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = probe();
  return isa;
}

Isa active_isa() {
  return static_cast<Isa>(std::min(static_cast<int>(detected_isa()), isa_cap.load()));
}

void set_isa_cap(Isa cap) { isa_cap.store(static_cast<int>(cap)); }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "avx512";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kBaseline:
      break;
  }
  return "baseline";
}

}  // namespace hetensor::simd
