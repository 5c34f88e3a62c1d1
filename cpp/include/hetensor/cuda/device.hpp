#pragma once
// Device discovery. Defined in cpp/cuda/device.cu, compiled only when CUDA is built.

namespace hetensor::cuda {

// Number of CUDA devices the runtime can use; 0 when there is no device or driver.
int device_count();

}  // namespace hetensor::cuda
