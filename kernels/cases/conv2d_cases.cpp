// conv2d cases: every pass of every ConvAlgo against conv2d_*_ref, in f32 and f64; in f32 also
// cuDNN (bt::cuda::cudnn_conv2d_*, version "cuda-cudnn") when a CUDA device is present.
#include <cmath>
#include <stdexcept>

#include "kernels/cases/cuda_buffers.h"
#include "kernels/cases/families.h"
#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/conv2d_dnnl.h"
#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/cudnn_conv.h"

namespace bt::cases {
namespace {

using cpu::Conv2dShape;
using cpu::ConvAlgo;
using cpu::ConvPass;

constexpr ConvPass kPasses[] = {ConvPass::forward, ConvPass::backward_data, ConvPass::backward_weight};

ConvAlgo parse_algo(const std::string& version) {
  for (ConvAlgo a : {ConvAlgo::reference, ConvAlgo::im2col, ConvAlgo::dnnl_direct, ConvAlgo::dnnl_auto, ConvAlgo::dnnl_bf16})
    if (version == cpu::to_string(a)) return a;
  throw std::invalid_argument("conv2d: unknown version " + version);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// Terms in the sum behind one output element (formulas in conv2d.h); rounding error grows as √terms.
double sum_length(const Conv2dShape& s, ConvPass pass) {
  switch (pass) {
    case ConvPass::forward: return double(s.C * s.R * s.S);
    case ConvPass::backward_data:
      return double(s.K * ((s.R + s.stride_h - 1) / s.stride_h) * ((s.S + s.stride_w - 1) / s.stride_w));
    case ConvPass::backward_weight: return double(s.N * s.P() * s.Q());
  }
  return 0;
}

template <class T>
void run_pass(ConvAlgo algo, const Conv2dShape& s, ConvPass pass, CaseData& d) {
  const T* a = d.inputs[0].data<T>();
  const T* b = d.inputs[1].data<T>();
  T* out = d.outputs[0].data<T>();
  switch (pass) {
    case ConvPass::forward: return cpu::conv2d_forward(algo, s, a, b, out);
    case ConvPass::backward_data: return cpu::conv2d_backward_data(algo, s, a, b, out);
    case ConvPass::backward_weight: return cpu::conv2d_backward_weight(algo, s, a, b, out);
  }
}

#if defined(BT_HAVE_CUDA_KERNELS)
// The cuDNN version, on device copies of the buffers.
void run_cudnn(const Conv2dShape& s, ConvPass pass, CaseData& d) {
  run_on_device(d, CaseDevice::cuda, [&](const KernelPointers& p) {
    const float *a = p.in<float>(0), *b = p.in<float>(1);
    float* out = p.out<float>(0);
    switch (pass) {
      case ConvPass::forward: return cuda::cudnn_conv2d_forward(s, a, b, out);
      case ConvPass::backward_data: return cuda::cudnn_conv2d_backward_data(s, a, b, out);
      case ConvPass::backward_weight: return cuda::cudnn_conv2d_backward_weight(s, a, b, out);
    }
  });
}
#endif

// One pass of one layer shape. Inputs are uniform in [−1, 1); the output starts as NaN, so an
// element a version fails to overwrite shows up as a mismatch.
// The direct kernels of kernels/cuda/conv2d.cu ("simt-direct", "cuda-direct"), on device copies.
void run_direct(const std::string& version, const Conv2dShape& s, ConvPass pass, CaseData& d) {
  run_cuda_version(version, d, [&]<class B>(B, const KernelPointers& p) {
    const float *a = p.in<float>(0), *b = p.in<float>(1);
    float* out = p.out<float>(0);
    switch (pass) {
      case ConvPass::forward: return cuda::conv2d_forward<B>(s, a, b, out, nullptr);
      case ConvPass::backward_data: return cuda::conv2d_backward_data<B>(s, a, b, out, nullptr);
      case ConvPass::backward_weight: return cuda::conv2d_backward_weight<B>(s, a, b, out, nullptr);
    }
  });
}

// emulator: list the simt version of the direct kernels (the test suite's shapes).
KernelCase conv_case(const std::string& label, const Conv2dShape& s, ConvPass pass, DType dt, bool emulator) {
  struct Arg {
    const char* name;
    std::vector<int64_t> shape;
  };
  const Arg x{"x", {s.N, s.C, s.H, s.W}}, w{"w", {s.K, s.C, s.R, s.S}}, y{"y", {s.N, s.K, s.P(), s.Q()}};
  std::vector<Arg> in, out;
  switch (pass) {
    case ConvPass::forward: in = {x, w}, out = {y}; break;
    case ConvPass::backward_data: in = {{"dy", y.shape}, w}, out = {{"dx", x.shape}}; break;
    case ConvPass::backward_weight: in = {x, {"dy", y.shape}}, out = {{"dw", w.shape}}; break;
  }

  KernelCase c;
  c.family = "conv2d";
  c.name = label + " " + cpu::to_string(pass) + " " + to_string(dt) + " " + s.str();
  c.versions = dt == DType::f32 ? std::vector<std::string>{"im2col", "dnnl_direct", "dnnl_auto", "dnnl_bf16"}
                                : std::vector<std::string>{"im2col"};
  if (dt == DType::f32 && cuda_device_available()) c.versions.push_back("cuda-cudnn");
  if (dt == DType::f32)
    for (const std::string& v : cuda_versions(emulator, "-direct")) c.versions.push_back(v);
  c.preferred = dt == DType::f32 ? cpu::to_string(cpu::best_conv_algo(s, pass)) : "im2col";
  c.flops = s.flops();
  const double elem = dt == DType::f32 ? 4 : 8;
  for (const auto* list : {&in, &out})
    for (const Arg& a : *list) {
      double n = 1;
      for (int64_t d : a.shape) n *= double(d);
      c.bytes += elem * n;
    }
  // Against the reference's double sums. f32: oneDNN's backward_weight sums long runs in
  // plain order (measured up to 0.4 of this tolerance at 10k terms); f64: far below.
  const double eps = dt == DType::f32 ? 4e-6 : 1e-13;
  c.atol = eps * std::sqrt(sum_length(s, pass));
  c.rtol = eps;
  // Winograd F(4×4, 3×3) transforms amplify rounding: measured up to 0.65 of the tolerance above.
  c.tol_scale["dnnl_auto"] = 3;
  // bf16 keeps 8 significant bits: each product's two roundings err by up to 2⁻⁸ of it, ~1000×
  // the float32 eps (tests/test_bf16_kernels.cpp checks the sums exactly, on rounded inputs).
  c.tol_scale["dnnl_bf16"] = 1000;
  c.tol_scale["cuda-cudnn"] = 3;  // cuDNN may pick Winograd or FFT algorithms too (FMA math, no TF32)
  c.tol_scale["simt-direct"] = c.tol_scale["cuda-direct"] = 3;  // float sums in plain order
  const uint64_t seed = fnv1a(c.name);
  c.make_inputs = [in, out, dt, seed] {
    CaseData d;
    for (size_t i = 0; i < in.size(); ++i) {
      d.inputs.emplace_back(in[i].name, dt, in[i].shape);
      d.inputs.back().fill_uniform(seed + i, -1, 1);
    }
    for (const Arg& a : out) {
      d.outputs.emplace_back(a.name, dt, a.shape);
      d.outputs.back().fill(NAN);
    }
    return d;
  };
  c.describe = [s, pass](const std::string& version) {
    if (is_cuda_version(version) || is_simt_version(version)) return describe_version(version);
    const ConvAlgo a = parse_algo(version);
    const bool dnnl = a == ConvAlgo::dnnl_direct || a == ConvAlgo::dnnl_auto || a == ConvAlgo::dnnl_bf16;
    return dnnl ? cpu::conv2d_dnnl_impl(a, s, pass) : std::string();
  };
  c.run = [s, pass, dt](const std::string& version, CaseData& d) {
#if defined(BT_HAVE_CUDA_KERNELS)
    if (version == "cuda-cudnn") return run_cudnn(s, pass, d);
#endif
    if (version.ends_with("-direct")) return run_direct(version, s, pass, d);
    if (dt == DType::f32)
      run_pass<float>(parse_algo(version), s, pass, d);
    else
      run_pass<double>(parse_algo(version), s, pass, d);
  };
  return c;
}

// ResNet-18 with the CIFAR stem (conv1 3×3 stride 1, no max-pool) on 32×32 inputs at width w:
// the distinct conv shapes and how many times each occurs in the network.
struct Layer {
  std::string name;
  Conv2dShape s;
  double count;
};
std::vector<Layer> resnet18_cifar(int64_t w, int64_t N) {
  auto conv = [N](int64_t C, int64_t K, int64_t HW, int64_t k, int64_t stride) {
    return Conv2dShape{.N = N, .C = C, .H = HW, .W = HW, .K = K, .R = k, .S = k, .stride_h = stride,
                       .stride_w = stride, .pad_h = k / 2, .pad_w = k / 2};
  };
  return {
      {"conv1", conv(3, w, 32, 3, 1), 1},
      {"layer1", conv(w, w, 32, 3, 1), 4},
      {"layer2.0.conv1", conv(w, 2 * w, 32, 3, 2), 1},
      {"layer2", conv(2 * w, 2 * w, 16, 3, 1), 3},
      {"layer2.0.downsample", conv(w, 2 * w, 32, 1, 2), 1},
      {"layer3.0.conv1", conv(2 * w, 4 * w, 16, 3, 2), 1},
      {"layer3", conv(4 * w, 4 * w, 8, 3, 1), 3},
      {"layer3.0.downsample", conv(2 * w, 4 * w, 16, 1, 2), 1},
      {"layer4.0.conv1", conv(4 * w, 8 * w, 8, 3, 2), 1},
      {"layer4", conv(8 * w, 8 * w, 4, 3, 1), 3},
      {"layer4.0.downsample", conv(4 * w, 8 * w, 8, 1, 2), 1},
  };
}

// Odd shapes: ragged sizes, batch 1, strides, padding 0/1, 1×1 / 3×3 / 5×5 / 7×7 / 3×5 kernels,
// a last row and column no output window reaches, batches cut into uneven im2col chunks.
std::vector<std::pair<std::string, Conv2dShape>> odd_shapes() {
  return {
      {"ragged", {.N = 2, .C = 3, .H = 7, .W = 9, .K = 5, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1}},
      {"ragged-p0", {.N = 2, .C = 3, .H = 7, .W = 9, .K = 5, .R = 3, .S = 3}},
      {"batch1", {.N = 1, .C = 4, .H = 8, .W = 8, .K = 6, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1}},
      {"stride2", {.N = 2, .C = 3, .H = 9, .W = 7, .K = 4, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1}},
      {"stride2-uncovered", {.N = 2, .C = 3, .H = 8, .W = 8, .K = 4, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2}},
      {"1x1", {.N = 2, .C = 5, .H = 6, .W = 7, .K = 3}},
      {"1x1-chunked", {.N = 6, .C = 8, .H = 3, .W = 3, .K = 4}},
      {"1x1-s2", {.N = 2, .C = 5, .H = 7, .W = 7, .K = 3, .stride_h = 2, .stride_w = 2}},
      {"5x5", {.N = 3, .C = 2, .H = 5, .W = 5, .K = 3, .R = 5, .S = 5, .pad_h = 2, .pad_w = 2}},
      {"7x7-s2", {.N = 2, .C = 3, .H = 20, .W = 18, .K = 8, .R = 7, .S = 7, .stride_h = 2, .stride_w = 2, .pad_h = 3, .pad_w = 3}},
      {"rect3x5", {.N = 2, .C = 3, .H = 6, .W = 10, .K = 4, .R = 3, .S = 5, .stride_w = 2, .pad_h = 1, .pad_w = 2}},
      {"chunked", {.N = 9, .C = 8, .H = 4, .W = 4, .K = 8, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1}},
      // batch > 8: oneDNN's convolution_auto takes Winograd; 11×13 leaves partial 4×4 tiles
      {"winograd-ragged", {.N = 9, .C = 16, .H = 11, .W = 13, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1}},
  };
}

std::vector<KernelCase> test_cases(const SuiteOptions& opt) {
  std::vector<std::pair<std::string, Conv2dShape>> shapes = odd_shapes();
  for (const Layer& l : resnet18_cifar(16, 10)) shapes.push_back({"r18-w16 " + l.name, l.s});
  if (!opt.quick)
    for (const Layer& l : resnet18_cifar(64, 2)) shapes.push_back({"r18-w64 " + l.name, l.s});
  std::vector<KernelCase> cases;
  for (const auto& [label, s] : shapes)
    for (ConvPass pass : kPasses)
      for (DType dt : {DType::f32, DType::f64}) cases.push_back(conv_case(label, s, pass, dt, true));
  return cases;
}

// The ResNet-18 CIFAR training layers at width 16 / batch 256 and width 64 / batch 128 (quick:
// batch 16), f32. Errors are measured at batch 16: the reference is ~50× slower than the fast
// paths, and oneDNN takes its Winograd kernels only above batch 8, so a smaller check batch
// would test other kernels than the ones timed.
std::vector<KernelCase> bench_cases(const SuiteOptions& opt) {
  constexpr int64_t kCheckBatch = 16;
  std::vector<KernelCase> cases;
  for (auto [w, N] : {std::pair<int64_t, int64_t>{16, 256}, {64, 128}}) {
    if (opt.quick) N = kCheckBatch;
    const std::string net = "r18-w" + std::to_string(w);
    for (ConvPass pass : kPasses)
      for (const Layer& l : resnet18_cifar(w, N)) {
        KernelCase c = conv_case(net + " " + l.name, l.s, pass, DType::f32, false);
        c.group = net + " N" + std::to_string(N) + "/" + cpu::to_string(pass);
        c.count = l.count;
        if (N > kCheckBatch) {
          Conv2dShape small = l.s;
          small.N = kCheckBatch;
          const std::string label = net + " " + l.name;
          c.check_variant = [label, small, pass] { return conv_case(label, small, pass, DType::f32, false); };
          c.check_note = "checked at N=" + std::to_string(kCheckBatch);
        }
        cases.push_back(std::move(c));
      }
  }
  return cases;
}

}  // namespace

Family conv2d_family() {
  return {"conv2d", [](const SuiteOptions& opt) { return opt.suite == Suite::test ? test_cases(opt) : bench_cases(opt); }};
}

}  // namespace bt::cases
