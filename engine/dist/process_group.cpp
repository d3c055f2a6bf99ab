#include "engine/dist/process_group.h"

#include <cstdio>
#include <cstdlib>

namespace bt::dist {

namespace {

void require_contiguous(const Tensor& t, const char* op) {
  BT_CHECK(t.defined() && t.is_contiguous(), "dist::", op, ": expected a defined contiguous tensor");
}

size_t byte_size(const Tensor& t) { return size_t(t.numel()) * dtype_size(t.dtype()); }

class LocalGroup : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  const char* backend() const override { return "local"; }
  void all_reduce_sum_f32(float*, size_t, Device) override {}
  void all_gather_bytes(const void* in, void* out, size_t bytes, Device device) override {
    copy_bytes(out, device, in, device, bytes);
  }
  void broadcast_bytes(void*, size_t, int, Device) override {}
  void barrier() override {}
  [[noreturn]] void abort(const std::string& message) override {
    std::fprintf(stderr, "bt: %s\n", message.c_str());
    std::exit(1);
  }
};

}  // namespace

void ProcessGroup::all_reduce_sum_(const Tensor& t) {
  require_contiguous(t, "all_reduce_sum_");
  BT_CHECK(t.dtype() == DType::f32, "dist::all_reduce_sum_: expected float32, got ", dtype_name(t.dtype()));
  stats_.all_reduce_bytes += int64_t(byte_size(t));
  ++stats_.calls;
  all_reduce_sum_f32(t.data<float>(), size_t(t.numel()), t.device());
}

Tensor ProcessGroup::all_gather(const Tensor& t) {
  require_contiguous(t, "all_gather");
  BT_CHECK(t.dim() >= 1, "dist::all_gather: expected a tensor with a leading dimension");
  Shape shape = t.shape();
  shape[0] *= world_size();
  Tensor out = Tensor::empty(shape, t.dtype(), t.device());
  stats_.all_gather_bytes += int64_t(byte_size(t));
  ++stats_.calls;
  all_gather_bytes(t.raw_data(), out.raw_data(), byte_size(t), t.device());
  return out;
}

void ProcessGroup::broadcast_(const Tensor& t, int root) {
  require_contiguous(t, "broadcast_");
  stats_.broadcast_bytes += int64_t(byte_size(t));
  ++stats_.calls;
  broadcast_bytes(t.raw_data(), byte_size(t), root, t.device());
}

std::shared_ptr<ProcessGroup> make_local_group() { return std::make_shared<LocalGroup>(); }

#ifndef BT_HAVE_MPI
std::shared_ptr<ProcessGroup> make_mpi_group(double) {
  throw Error("started by mpirun (OMPI_COMM_WORLD_SIZE is set) but this build has no MPI: install "
              "libopenmpi-dev (setup.sh) and rebuild");
}
#endif

#ifdef BT_HAVE_NCCL
std::shared_ptr<ProcessGroup> make_nccl_group(double timeout_s);  // engine/dist/nccl_group.cpp
#endif

std::shared_ptr<ProcessGroup> init_from_environment(Device device, double timeout_s) {
  BT_CHECK(timeout_s > 0, "--dist-timeout must be positive, got ", timeout_s);
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) return make_local_group();
  if (device != Device::cuda) return make_mpi_group(timeout_s);
#ifdef BT_HAVE_NCCL
  return make_nccl_group(timeout_s);
#else
  throw Error("--device cuda under mpirun needs the NCCL backend, which this build lacks (no CUDA toolkit "
              "with NCCL found at configure time)");
#endif
}

}  // namespace bt::dist
