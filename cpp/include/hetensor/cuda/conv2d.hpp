#pragma once
// Host launchers of the tiled CUDA conv2d kernels (cpp/cuda/conv2d.cu, compiled only when CUDA
// is built). They take host arrays, copy them to the current device, run, and copy back; CUDA
// failures throw std::runtime_error with the runtime's message.

#include "hetensor/conv/conv2d.hpp"

namespace hetensor::cuda {

template <typename T>
void conv2d_forward(const conv::Conv2dParams& p, const T* x, const T* w, const T* bias, T* y);

template <typename T>
void conv2d_backward(const conv::Conv2dParams& p, const T* x, const T* w, const T* gy, T* gx, T* gw,
                     T* gb);

}  // namespace hetensor::cuda
