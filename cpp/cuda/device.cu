#include <cuda_runtime.h>

#include "hetensor/cuda/device.hpp"

namespace hetensor::cuda {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return 0;
  }
  return count;
}

}  // namespace hetensor::cuda
