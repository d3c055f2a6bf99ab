#pragma once
// A process group for data parallelism (docs/distributed.md): rank, world size and the
// collectives, on real engines only. Backends:
//   local  world 1, every collective the identity: a run without mpirun needs neither MPI
//          nor NCCL at run time (MPI_Init is never called).
//   mpi    OpenMPI, for CPU ranks launched by `mpirun -np K` (engine/dist/mpi_group.cpp).
//   nccl   NCCL for tensors on the cuda device, its unique id broadcast over MPI; host
//          tensors go through MPI (engine/dist/nccl_group.cpp).
// Every collective waits with a deadline: when a rank died, hangs, or runs a different
// sequence of collectives, each waiting rank prints a one-line error and aborts the whole job
// (MPI_Abort), never hangs. Collectives must be called in the same order on every rank.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/tensor.h"

namespace bt::dist {

// Bytes each rank contributed to each kind of collective, for the benchmark's volume figures.
struct CommStats {
  int64_t all_reduce_bytes = 0, all_gather_bytes = 0, broadcast_bytes = 0;
  int64_t calls = 0;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual const char* backend() const = 0;

  // ---- raw collectives; `device` says where the pointers live ----
  virtual void all_reduce_sum_f32(float* data, size_t count, Device device) = 0;  // in place
  // out (world · bytes) receives every rank's `in` in rank order.
  virtual void all_gather_bytes(const void* in, void* out, size_t bytes, Device device) = 0;
  virtual void broadcast_bytes(void* data, size_t bytes, int root, Device device) = 0;
  virtual void barrier() = 0;
  // Prints "bt: rank r: message" and ends every rank with a non-zero status.
  [[noreturn]] virtual void abort(const std::string& message) = 0;

  // ---- tensor collectives (contiguous tensors; outside autograd: engine/dist/collectives.h) ----
  void all_reduce_sum_(const Tensor& t);  // float32, in place
  // (world · N, ...): every rank's t (N, ...) in rank order; shapes must agree across ranks.
  Tensor all_gather(const Tensor& t);
  void broadcast_(const Tensor& t, int root = 0);  // any dtype, in place

  const CommStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

 protected:
  CommStats stats_;
};

// world 1, no backend.
std::shared_ptr<ProcessGroup> make_local_group();

// The group this process was started in: local when OMPI_COMM_WORLD_SIZE is absent (no
// mpirun); else MPI, or NCCL when `device` is cuda. timeout_s bounds every collective's wait.
// Throws Error when mpirun started us but this build has no MPI (or NCCL for cuda).
std::shared_ptr<ProcessGroup> init_from_environment(Device device, double timeout_s);

// The MPI world, for backends layered on it (NCCL) and tests.
std::shared_ptr<ProcessGroup> make_mpi_group(double timeout_s);

}  // namespace bt::dist
