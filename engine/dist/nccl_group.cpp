// The NCCL backend: collectives on cuda tensors by NCCL on the default stream (the stream the
// engine's kernels use, kernels/cuda/backend.h), the NCCL unique id broadcast from rank 0 over
// MPI (as llm.c does); host tensors and barriers go through the MPI group. Each collective is
// polled with a deadline (cudaStreamQuery); on timeout the communicator is aborted and then the
// MPI job. One GPU per rank: the launcher sets CUDA_VISIBLE_DEVICES per local rank
// (bench/gpu_smoke_multi.sh), so every rank's device is its device 0.
#if defined(BT_HAVE_NCCL) && defined(BT_HAVE_MPI)
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "engine/dist/mpi_wait.h"
#include "engine/dist/process_group.h"

namespace bt::dist {

namespace {

class NcclGroup : public ProcessGroup {
 public:
  explicit NcclGroup(double timeout_s) : mpi_(make_mpi_group(timeout_s)), timeout_s_(timeout_s) {
    ncclUniqueId id{};
    if (mpi_->rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi_->broadcast_bytes(&id, sizeof id, 0, Device::cpu);
    check(ncclCommInitRank(&comm_, mpi_->world_size(), id, mpi_->rank()), "ncclCommInitRank");
  }
  ~NcclGroup() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }
  int rank() const override { return mpi_->rank(); }
  int world_size() const override { return mpi_->world_size(); }
  const char* backend() const override { return "nccl"; }

  void all_reduce_sum_f32(float* data, size_t count, Device device) override {
    if (device != Device::cuda) return mpi_->all_reduce_sum_f32(data, count, device);
    check(ncclAllReduce(data, data, count, ncclFloat, ncclSum, comm_, nullptr), "ncclAllReduce");
    wait("all_reduce of " + std::to_string(count) + " floats");
  }
  void all_gather_bytes(const void* in, void* out, size_t bytes, Device device) override {
    if (device != Device::cuda) return mpi_->all_gather_bytes(in, out, bytes, device);
    check(ncclAllGather(in, out, bytes, ncclUint8, comm_, nullptr), "ncclAllGather");
    wait("all_gather of " + std::to_string(bytes) + " bytes");
  }
  void broadcast_bytes(void* data, size_t bytes, int root, Device device) override {
    if (device != Device::cuda) return mpi_->broadcast_bytes(data, bytes, root, device);
    check(ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, nullptr), "ncclBroadcast");
    wait("broadcast of " + std::to_string(bytes) + " bytes");
  }
  void barrier() override { mpi_->barrier(); }
  [[noreturn]] void abort(const std::string& message) override {
    if (comm_ != nullptr) ncclCommAbort(comm_);
    comm_ = nullptr;
    mpi_detail::abort_world(message);
  }

 private:
  void check(ncclResult_t r, const char* what) {
    if (r != ncclSuccess) abort(std::string(what) + " failed: " + ncclGetErrorString(r));
  }
  // The default stream drains, or the deadline passes.
  void wait(const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s_);
    for (;;) {
      const cudaError_t e = cudaStreamQuery(nullptr);
      if (e == cudaSuccess) return;
      if (e != cudaErrorNotReady) abort(what + ": " + cudaGetErrorString(e));
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async);
      if (async != ncclSuccess) abort(what + ": " + ncclGetErrorString(async));
      if (std::chrono::steady_clock::now() > deadline) abort(mpi_detail::timeout_message(what, timeout_s_));
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  std::shared_ptr<ProcessGroup> mpi_;
  double timeout_s_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::shared_ptr<ProcessGroup> make_nccl_group(double timeout_s) { return std::make_shared<NcclGroup>(timeout_s); }

}  // namespace bt::dist
#endif
