// Elementwise kernels: one grid-stride map kernel per arity, specialised by a functor.
#include "kernels/simt/simt.h"
// (simt.h first: it defines the CUDA keywords for the emulator build)
#include "kernels/cuda/elementwise.h"

namespace bt::cuda {
namespace {

constexpr int kBlock = 256;

struct Relu {
  __device__ float operator()(float x) const { return x < 0.0f ? 0.0f : x; }
};
struct Scale {
  float alpha;
  __device__ float operator()(float x) const { return alpha * x; }
};
struct ReluGrad {  // (y, dy)
  __device__ float operator()(float y, float dy) const { return y > 0.0f ? dy : 0.0f; }
};
struct Add {
  __device__ float operator()(float a, float b) const { return a + b; }
};
struct Mul {
  __device__ float operator()(float a, float b) const { return a * b; }
};
struct Axpby {  // (x, y)
  float alpha, beta;
  __device__ float operator()(float x, float y) const { return alpha * x + beta * y; }
};
struct Div {
  __device__ float operator()(float a, float b) const { return a / b; }
};
struct Exp {
  __device__ float operator()(float x) const { return expf(x); }
};
struct Log {
  __device__ float operator()(float x) const { return logf(x); }
};
struct Sqrt {
  __device__ float operator()(float x) const { return sqrtf(x); }
};
struct Pow {
  float p;
  __device__ float operator()(float x) const { return powf(x, p); }
};
struct AddScalar64 {
  double s;
  __device__ double operator()(double x) const { return x + s; }
};
struct AddRelu {
  __device__ float operator()(float a, float b) const {
    float s = a + b;
    return s < 0.0f ? 0.0f : s;
  }
};

// y (n) = op(x (n)).
template <class T, class Op>
__global__ void map1_kernel(int64_t n, const T* x, T* y, Op op) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = op(x[i]);
}

// c (n) = op(a (n), b (n)).
template <class Op>
__global__ void map2_kernel(int64_t n, const float* a, const float* b, float* c, Op op) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    c[i] = op(a[i], b[i]);
}

template <class T, class Op>
void map1(int64_t n, const T* x, T* y, Op op, void* stream) {
  if (n <= 0) return;
  simt::launch(map1_kernel<T, Op>, grid_1d(n, kBlock), kBlock, 0, stream, n, x, y, op);
}

template <class Op>
void map2(int64_t n, const float* a, const float* b, float* c, Op op, void* stream) {
  if (n <= 0) return;
  simt::launch(map2_kernel<Op>, grid_1d(n, kBlock), kBlock, 0, stream, n, a, b, c, op);
}

}  // namespace

template <class B>
void relu_forward(int64_t n, const float* x, float* y, void* stream) {
  map1(n, x, y, Relu{}, stream);
}

template <class B>
void relu_backward(int64_t n, const float* y, const float* dy, float* dx, void* stream) {
  map2(n, y, dy, dx, ReluGrad{}, stream);
}

template <class B>
void add(int64_t n, const float* a, const float* b, float* c, void* stream) {
  map2(n, a, b, c, Add{}, stream);
}

template <class B>
void mul(int64_t n, const float* a, const float* b, float* c, void* stream) {
  map2(n, a, b, c, Mul{}, stream);
}

template <class B>
void scale(int64_t n, float alpha, const float* x, float* y, void* stream) {
  map1(n, x, y, Scale{alpha}, stream);
}

template <class B>
void axpby(int64_t n, float alpha, const float* x, float beta, float* y, void* stream) {
  if (beta == 0.0f)
    map1(n, x, y, Scale{alpha}, stream);
  else
    map2(n, x, y, y, Axpby{alpha, beta}, stream);
}

template <class B>
void add_relu(int64_t n, const float* a, const float* b, float* y, void* stream) {
  map2(n, a, b, y, AddRelu{}, stream);
}

template <class B>
void div(int64_t n, const float* a, const float* b, float* c, void* stream) {
  map2(n, a, b, c, Div{}, stream);
}

template <class B>
void exp_forward(int64_t n, const float* x, float* y, void* stream) {
  map1(n, x, y, Exp{}, stream);
}

template <class B>
void log_forward(int64_t n, const float* x, float* y, void* stream) {
  map1(n, x, y, Log{}, stream);
}

template <class B>
void sqrt_forward(int64_t n, const float* x, float* y, void* stream) {
  map1(n, x, y, Sqrt{}, stream);
}

template <class B>
void pow_scalar(int64_t n, const float* x, float p, float* y, void* stream) {
  map1(n, x, y, Pow{p}, stream);
}

template <class B>
void add_scalar_f64(int64_t n, const double* x, double s, double* y, void* stream) {
  map1(n, x, y, AddScalar64{s}, stream);
}

template void relu_forward<ThisBackend>(int64_t, const float*, float*, void*);
template void relu_backward<ThisBackend>(int64_t, const float*, const float*, float*, void*);
template void add<ThisBackend>(int64_t, const float*, const float*, float*, void*);
template void mul<ThisBackend>(int64_t, const float*, const float*, float*, void*);
template void scale<ThisBackend>(int64_t, float, const float*, float*, void*);
template void axpby<ThisBackend>(int64_t, float, const float*, float, float*, void*);
template void add_relu<ThisBackend>(int64_t, const float*, const float*, float*, void*);
template void div<ThisBackend>(int64_t, const float*, const float*, float*, void*);
template void exp_forward<ThisBackend>(int64_t, const float*, float*, void*);
template void log_forward<ThisBackend>(int64_t, const float*, float*, void*);
template void sqrt_forward<ThisBackend>(int64_t, const float*, float*, void*);
template void pow_scalar<ThisBackend>(int64_t, const float*, float, float*, void*);
template void add_scalar_f64<ThisBackend>(int64_t, const double*, double, double*, void*);

}  // namespace bt::cuda
