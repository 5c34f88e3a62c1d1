// Tiled shared-memory conv2d kernels (forward, input gradient, weight gradient, bias gradient)
// and their host launchers. The per-tile arithmetic is in hetensor/conv/conv2d_tile.hpp
// (HETENSOR_HD), which conv2d_tiled.cpp runs on the CPU for the tests.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "hetensor/conv/conv2d_tile.hpp"
#include "hetensor/cuda/conv2d.hpp"

namespace hetensor::cuda {

namespace {

using i64 = std::int64_t;
using namespace conv::tile;  // NOLINT: source file, tile vocabulary

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
  }
}

// Owns one device allocation of n elements.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(i64 n) : n_(n) {
    if (n > 0) check(cudaMalloc(reinterpret_cast<void**>(&ptr_), bytes()), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return ptr_; }
  std::size_t bytes() const { return static_cast<std::size_t>(n_) * sizeof(T); }
  void upload(const T* host) {
    if (n_ > 0) check(cudaMemcpy(ptr_, host, bytes(), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
  }
  void download(T* host) const {
    if (n_ > 0) check(cudaMemcpy(host, ptr_, bytes(), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
  }

 private:
  T* ptr_ = nullptr;
  i64 n_;
};

template <typename T>
__global__ void forward_kernel(Geom g, const T* __restrict__ x, const T* __restrict__ w,
                               const T* __restrict__ bias, T* __restrict__ y, i64 tiles_w,
                               i64 kblocks) {
  extern __shared__ unsigned char smem[];
  T* patch = reinterpret_cast<T*>(smem);
  T* filt = patch + fwd_patch_h(g) * fwd_patch_w(g);
  const int tid = static_cast<int>(threadIdx.x);
  const int ty = tid / kTileW, tx = tid % kTileW;
  i64 oh0 = 0, ow0 = 0;
  tile_origin(blockIdx.x, tiles_w, oh0, ow0);
  const i64 cg = g.c_in / g.groups, kg = g.c_out / g.groups, taps = g.kh * g.kw;
  const i64 grp = blockIdx.y / kblocks, k0 = (blockIdx.y % kblocks) * kTileK;
  const i64 n = blockIdx.z;
  T acc[kTileK];
  for (int kk = 0; kk < kTileK; ++kk) acc[kk] = T(0);
  for (i64 c = 0; c < cg; ++c) {
    __syncthreads();
    stage_input_patch(x + (n * g.c_in + grp * cg + c) * g.h * g.w, g, oh0, ow0, patch, tid,
                      kThreads);
    for (i64 e = tid; e < kTileK * taps; e += kThreads) {
      const i64 k = k0 + e / taps;
      filt[e] = k < kg ? w[((grp * kg + k) * cg + c) * taps + e % taps] : T(0);
    }
    __syncthreads();
    for (int kk = 0; kk < kTileK; ++kk) acc[kk] += tile_point(patch, g, filt + kk * taps, ty, tx);
  }
  const i64 oh = oh0 + ty, ow = ow0 + tx;
  if (oh >= g.oh || ow >= g.ow) return;
  for (int kk = 0; kk < kTileK && k0 + kk < kg; ++kk) {
    const i64 k = grp * kg + k0 + kk;
    y[((n * g.c_out + k) * g.oh + oh) * g.ow + ow] = acc[kk] + (bias ? bias[k] : T(0));
  }
}

template <typename T>
__global__ void grad_input_kernel(Geom g, const T* __restrict__ w, const T* __restrict__ gy,
                                  T* __restrict__ gx, i64 tiles_w) {
  extern __shared__ unsigned char smem[];
  T* patch = reinterpret_cast<T*>(smem);
  T* filt = patch + bwd_patch_h(g) * bwd_patch_w(g);
  const int tid = static_cast<int>(threadIdx.x);
  const int ty = tid / kTileW, tx = tid % kTileW;
  i64 ih0 = 0, iw0 = 0;
  tile_origin(blockIdx.x, tiles_w, ih0, iw0);
  const i64 c = blockIdx.y, n = blockIdx.z;
  const i64 cg = g.c_in / g.groups, kg = g.c_out / g.groups, taps = g.kh * g.kw;
  const i64 grp = c / cg;
  T acc = T(0);
  for (i64 kk = 0; kk < kg; ++kk) {
    const i64 k = grp * kg + kk;
    __syncthreads();
    stage_grad_patch(gy + (n * g.c_out + k) * g.oh * g.ow, g, ih0, iw0, patch, tid, kThreads);
    for (i64 e = tid; e < taps; e += kThreads) filt[e] = w[(k * cg + c % cg) * taps + e];
    __syncthreads();
    acc += grad_input_point(patch, g, filt, ih0, iw0, ty, tx);
  }
  const i64 ih = ih0 + ty, iw = iw0 + tx;
  if (ih < g.h && iw < g.w) gx[((n * g.c_in + c) * g.h + ih) * g.w + iw] = acc;
}

template <typename T>
__global__ void grad_weight_kernel(Geom g, const T* __restrict__ x, const T* __restrict__ gy,
                                   T* __restrict__ gw, i64 tiles_h, i64 tiles_w, i64 qblocks) {
  extern __shared__ unsigned char smem[];
  T* patch = reinterpret_cast<T*>(smem);
  T* vals = patch + fwd_patch_h(g) * fwd_patch_w(g);
  const int tid = static_cast<int>(threadIdx.x);
  const int ty = tid / kTileW, tx = tid % kTileW;
  const i64 cg = g.c_in / g.groups, kg = g.c_out / g.groups, taps = g.kh * g.kw;
  const i64 q0 = (blockIdx.x % qblocks) * kTileQ, cl = blockIdx.y, k = blockIdx.z;
  const int nq = static_cast<int>(taps - q0 < kTileQ ? taps - q0 : kTileQ);
  const i64 grp = k / kg;
  T acc[kTileQ];
  for (int j = 0; j < kTileQ; ++j) acc[j] = T(0);
  for (i64 n = 0; n < g.n; ++n) {
    const T* plane = x + (n * g.c_in + grp * cg + cl) * g.h * g.w;
    const T* gplane = gy + (n * g.c_out + k) * g.oh * g.ow;
    for (i64 t = 0; t < tiles_h * tiles_w; ++t) {
      i64 oh0 = 0, ow0 = 0;
      tile_origin(t, tiles_w, oh0, ow0);
      __syncthreads();
      stage_input_patch(plane, g, oh0, ow0, patch, tid, kThreads);
      __syncthreads();
      const i64 oh = oh0 + ty, ow = ow0 + tx;
      if (oh < g.oh && ow < g.ow)
        grad_weight_point(patch, g, gplane[oh * g.ow + ow], ty, tx, q0, nq, acc);
    }
  }
  for (int j = 0; j < nq; ++j) {
    __syncthreads();
    vals[tid] = acc[j];
    for (int stride = kThreads / 2; stride > 0; stride /= 2) {
      __syncthreads();
      reduce_level(vals, stride, tid);
    }
    __syncthreads();
    if (tid == 0) gw[(k * cg + cl) * taps + q0 + j] = vals[0];
  }
}

template <typename T>
__global__ void grad_bias_kernel(Geom g, const T* __restrict__ gy, T* __restrict__ gb) {
  __shared__ T vals[kThreads];
  const int tid = static_cast<int>(threadIdx.x);
  const i64 k = blockIdx.x, hw = g.oh * g.ow;
  T acc = T(0);
  for (i64 e = tid; e < g.n * hw; e += kThreads) acc += gy[((e / hw) * g.c_out + k) * hw + e % hw];
  vals[tid] = acc;
  for (int stride = kThreads / 2; stride > 0; stride /= 2) {
    __syncthreads();
    reduce_level(vals, stride, tid);
  }
  if (tid == 0) gb[k] = vals[0];
}

void check_grid(i64 y, i64 z, std::size_t shared_bytes) {
  if (y > 65535 || z > 65535) {
    throw std::invalid_argument(
        "conv2d on CUDA: batch or channel count exceeds the grid limit 65535");
  }
  if (shared_bytes > 48 * 1024) {
    throw std::invalid_argument(
        "conv2d on CUDA: kernel footprint (dilation/stride/kernel size) needs " +
        std::to_string(shared_bytes) + " bytes of shared memory per block; the limit is 49152");
  }
}

void launched(const char* what) {
  check(cudaGetLastError(), what);
  check(cudaDeviceSynchronize(), what);
}

}  // namespace

template <typename T>
void conv2d_forward(const conv::Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  p.validate();
  if (p.n == 0) return;
  const Geom g = conv::tile::to_geom(p);
  const i64 tiles_w = ceil_div(g.ow, kTileW), tiles = ceil_div(g.oh, kTileH) * tiles_w;
  const i64 kblocks = ceil_div(p.cout_g(), kTileK);
  const std::size_t shared =
      static_cast<std::size_t>(fwd_patch_h(g) * fwd_patch_w(g) + kTileK * p.kh * p.kw) * sizeof(T);
  check_grid(p.groups * kblocks, p.n, shared);
  DeviceBuffer<T> dx(p.n * p.c_in * p.h * p.w), dw(p.c_out * p.cin_g() * p.kh * p.kw);
  DeviceBuffer<T> db(bias ? p.c_out : 0), dy(p.n * p.c_out * g.oh * g.ow);
  dx.upload(x);
  dw.upload(w);
  if (bias) db.upload(bias);
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(p.groups * kblocks),
                  static_cast<unsigned>(p.n));
  forward_kernel<T><<<grid, kThreads, shared>>>(g, dx.get(), dw.get(), bias ? db.get() : nullptr,
                                                dy.get(), tiles_w, kblocks);
  launched("conv2d forward kernel");
  dy.download(y);
}

template <typename T>
void conv2d_backward(const conv::Conv2dParams& p, const T* x, const T* w, const T* gy, T* gx, T* gw,
                     T* gb) {
  p.validate();
  const Geom g = conv::tile::to_geom(p);
  const i64 taps = p.kh * p.kw, wsize = p.c_out * p.cin_g() * taps;
  DeviceBuffer<T> dgy(p.n * p.c_out * g.oh * g.ow);
  dgy.upload(gy);
  if (gb != nullptr) {
    DeviceBuffer<T> dgb(p.c_out);
    grad_bias_kernel<T><<<static_cast<unsigned>(p.c_out), kThreads>>>(g, dgy.get(), dgb.get());
    launched("conv2d bias-gradient kernel");
    dgb.download(gb);
  }
  if (gx != nullptr && p.n > 0) {
    DeviceBuffer<T> dw(wsize), dgx(p.n * p.c_in * p.h * p.w);
    dw.upload(w);
    const i64 tiles_w = ceil_div(p.w, kTileW), tiles = ceil_div(p.h, kTileH) * tiles_w;
    const std::size_t shared =
        static_cast<std::size_t>(bwd_patch_h(g) * bwd_patch_w(g) + taps) * sizeof(T);
    check_grid(p.c_in, p.n, shared);
    const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(p.c_in),
                    static_cast<unsigned>(p.n));
    grad_input_kernel<T><<<grid, kThreads, shared>>>(g, dw.get(), dgy.get(), dgx.get(), tiles_w);
    launched("conv2d input-gradient kernel");
    dgx.download(gx);
  }
  if (gw != nullptr) {
    DeviceBuffer<T> dx(p.n * p.c_in * p.h * p.w), dgw(wsize);
    dx.upload(x);
    const i64 qblocks = ceil_div(taps, kTileQ);
    const std::size_t shared =
        static_cast<std::size_t>(fwd_patch_h(g) * fwd_patch_w(g) + kThreads) * sizeof(T);
    check_grid(p.cin_g(), p.c_out, shared);
    const dim3 grid(static_cast<unsigned>(qblocks), static_cast<unsigned>(p.cin_g()),
                    static_cast<unsigned>(p.c_out));
    grad_weight_kernel<T><<<grid, kThreads, shared>>>(
        g, dx.get(), dgy.get(), dgw.get(), ceil_div(g.oh, kTileH), ceil_div(g.ow, kTileW), qblocks);
    launched("conv2d weight-gradient kernel");
    dgw.download(gw);
  }
}

template void conv2d_forward<float>(const conv::Conv2dParams&, const float*, const float*,
                                    const float*, float*);
template void conv2d_forward<double>(const conv::Conv2dParams&, const double*, const double*,
                                     const double*, double*);
template void conv2d_backward<float>(const conv::Conv2dParams&, const float*, const float*,
                                     const float*, float*, float*, float*);
template void conv2d_backward<double>(const conv::Conv2dParams&, const double*, const double*,
                                      const double*, double*, double*, double*);

}  // namespace hetensor::cuda
