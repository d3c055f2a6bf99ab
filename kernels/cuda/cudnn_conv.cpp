// cuDNN's convolution API: descriptors for x, w, y and the convolution, an algorithm per pass
// (the fastest one cuDNN measures, cudnnFind*, whose workspace fits the limit; cached per shape
// and pass), and a shared grow-only workspace. The limit is BT_CUDNN_WORKSPACE_MB (default 256).
// FMA math: no TF32 rounding, so results match the CPU kernels to fp32.
#include "kernels/cuda/cudnn_conv.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_runtime.h"

namespace bt::cuda {
namespace {

cudnnHandle_t handle() {
  require_device();
  static cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    check(cudnnCreate(&created), "cudnnCreate");
    return created;
  }();
  return h;
}

int as_int(int64_t v) {
  if (v < 0 || v > std::numeric_limits<int>::max())
    throw simt::Error("cuDNN convolution: size " + std::to_string(v) + " is out of cuDNN's int range");
  return int(v);
}

// The descriptors of one geometry, destroyed with it.
struct Descriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  explicit Descriptors(const cpu::Conv2dShape& s) {
    check(cudnnCreateTensorDescriptor(&x), "cudnnCreateTensorDescriptor");
    check(cudnnCreateTensorDescriptor(&y), "cudnnCreateTensorDescriptor");
    check(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor");
    check(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor");
    check(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, as_int(s.N), as_int(s.C), as_int(s.H),
                                     as_int(s.W)),
          "cudnnSetTensor4dDescriptor(x)");
    check(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, as_int(s.N), as_int(s.K),
                                     as_int(s.P()), as_int(s.Q())),
          "cudnnSetTensor4dDescriptor(y)");
    check(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, as_int(s.K), as_int(s.C), as_int(s.R),
                                     as_int(s.S)),
          "cudnnSetFilter4dDescriptor");
    check(cudnnSetConvolution2dDescriptor(conv, as_int(s.pad_h), as_int(s.pad_w), as_int(s.stride_h),
                                          as_int(s.stride_w), 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
          "cudnnSetConvolution2dDescriptor");
    check(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  }
  ~Descriptors() {
    cudnnDestroyConvolutionDescriptor(conv);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(x);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

enum class Pass { forward, backward_data, backward_weight };

// A geometry's descriptors and the algorithm chosen for one pass.
struct Plan {
  std::unique_ptr<Descriptors> d;
  int algo = 0;  // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t, by pass
  size_t workspace = 0;
};

size_t workspace_limit() {
  static const size_t limit = [] {
    const char* mb = std::getenv("BT_CUDNN_WORKSPACE_MB");
    return size_t(mb && std::atol(mb) > 0 ? std::atol(mb) : 256) << 20;
  }();
  return limit;
}

// cuDNN's measured candidates for a pass, fastest first: the first that ran and whose workspace
// fits workspace_limit().
template <class Perf>
std::pair<int, size_t> fastest_fitting(const Perf* perf, int returned, const char* pass, const cpu::Conv2dShape& s) {
  for (int i = 0; i < returned; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= workspace_limit())
      return {int(perf[i].algo), perf[i].memory};
  throw simt::Error(std::string("cuDNN has no algorithm for the convolution ") + pass + " of " + s.str() +
                    " within the workspace limit of " + std::to_string(workspace_limit() >> 20) +
                    " MiB (BT_CUDNN_WORKSPACE_MB)");
}

Plan make_plan(const cpu::Conv2dShape& s, Pass pass) {
  Plan p{std::make_unique<Descriptors>(s)};
  const Descriptors& d = *p.d;
  int returned = 0;
  switch (pass) {
    case Pass::forward: {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      check(cudnnFindConvolutionForwardAlgorithm(handle(), d.x, d.w, d.conv, d.y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                 &returned, perf),
            "cudnnFindConvolutionForwardAlgorithm");
      std::tie(p.algo, p.workspace) = fastest_fitting(perf, returned, "forward", s);
      break;
    }
    case Pass::backward_data: {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      check(cudnnFindConvolutionBackwardDataAlgorithm(handle(), d.w, d.y, d.conv, d.x,
                                                      CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf),
            "cudnnFindConvolutionBackwardDataAlgorithm");
      std::tie(p.algo, p.workspace) = fastest_fitting(perf, returned, "backward data", s);
      break;
    }
    case Pass::backward_weight: {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      check(cudnnFindConvolutionBackwardFilterAlgorithm(handle(), d.x, d.y, d.conv, d.w,
                                                        CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf),
            "cudnnFindConvolutionBackwardFilterAlgorithm");
      std::tie(p.algo, p.workspace) = fastest_fitting(perf, returned, "backward weight", s);
      break;
    }
  }
  return p;
}

// The plans made so far and the workspace, grown to the largest plan's need.
struct State {
  std::mutex mu;
  std::map<std::pair<cpu::Conv2dShape, Pass>, Plan> plans;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

State& state() {
  static State s;
  return s;
}

// Runs `call(plan, workspace)` under the state lock with the plan of (s, pass).
template <class Call>
void with_plan(const cpu::Conv2dShape& s, Pass pass, Call call) {
  State& st = state();
  std::lock_guard lock(st.mu);
  auto it = st.plans.find({s, pass});
  if (it == st.plans.end()) it = st.plans.emplace(std::pair{s, pass}, make_plan(s, pass)).first;
  const Plan& plan = it->second;
  if (plan.workspace > st.workspace_bytes) {
    device_free(st.workspace);  // first: the old and the new one need not fit together
    st.workspace = nullptr;
    st.workspace_bytes = 0;
    void* grown = device_alloc(plan.workspace);
    st.workspace = grown;
    st.workspace_bytes = plan.workspace;
  }
  call(plan, st.workspace);
}

}  // namespace

void cudnn_conv2d_forward(const cpu::Conv2dShape& s, const float* x, const float* w, float* y) {
  with_plan(s, Pass::forward, [&](const Plan& p, void* ws) {
    const float one = 1, zero = 0;
    check(cudnnConvolutionForward(handle(), &one, p.d->x, x, p.d->w, w, p.d->conv,
                                  cudnnConvolutionFwdAlgo_t(p.algo), ws, p.workspace, &zero, p.d->y, y),
          "cudnnConvolutionForward");
  });
}

void cudnn_conv2d_backward_data(const cpu::Conv2dShape& s, const float* dy, const float* w, float* dx) {
  with_plan(s, Pass::backward_data, [&](const Plan& p, void* ws) {
    const float one = 1, zero = 0;
    check(cudnnConvolutionBackwardData(handle(), &one, p.d->w, w, p.d->y, dy, p.d->conv,
                                       cudnnConvolutionBwdDataAlgo_t(p.algo), ws, p.workspace, &zero, p.d->x, dx),
          "cudnnConvolutionBackwardData");
  });
}

void cudnn_conv2d_backward_weight(const cpu::Conv2dShape& s, const float* x, const float* dy, float* dw) {
  with_plan(s, Pass::backward_weight, [&](const Plan& p, void* ws) {
    const float one = 1, zero = 0;
    check(cudnnConvolutionBackwardFilter(handle(), &one, p.d->x, x, p.d->y, dy, p.d->conv,
                                         cudnnConvolutionBwdFilterAlgo_t(p.algo), ws, p.workspace, &zero, p.d->w, dw),
          "cudnnConvolutionBackwardFilter");
  });
}

}  // namespace bt::cuda
