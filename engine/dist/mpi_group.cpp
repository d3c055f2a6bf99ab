// The MPI backend (OpenMPI): nonblocking collectives on MPI_COMM_WORLD, each polled with a
// deadline. Tensors on the cuda device are staged through host memory.
#ifdef BT_HAVE_MPI
#include <chrono>
#include <climits>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/dist/mpi_wait.h"
#include "engine/dist/process_group.h"

namespace bt::dist {

namespace mpi_detail {

void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return;
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    // Errors abort the job with MPI's own message rather than returning codes we would miss.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
  });
}

void abort_world(const std::string& message) {
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  std::fprintf(stderr, "bt: rank %d of %d: %s\n", rank, world, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

std::string timeout_message(const std::string& what, double timeout_s) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", timeout_s);
  return what + " did not complete within " + secs +
         " s (--dist-timeout): another rank died, hangs, or ran a different number of steps; aborting every rank";
}

void wait(MPI_Request& request, double timeout_s, const std::string& what) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + std::chrono::duration<double>(timeout_s);
  auto pause = std::chrono::microseconds(0);
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    const auto now = clock::now();
    if (now > deadline) abort_world(timeout_message(what, timeout_s));
    if (now - start > std::chrono::microseconds(200)) {
      pause = std::min(std::chrono::microseconds(1000), pause + std::chrono::microseconds(20));
      std::this_thread::sleep_for(pause);
    }
  }
}

}  // namespace mpi_detail

namespace {

using mpi_detail::wait;

int checked_count(size_t n, const char* op) {
  BT_CHECK(n <= size_t(INT_MAX), "dist::", op, ": ", n, " elements exceed MPI's int count");
  return int(n);
}

class MpiGroup : public ProcessGroup {
 public:
  explicit MpiGroup(double timeout_s) : timeout_s_(timeout_s) {
    mpi_detail::ensure_initialized();
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &world_);
  }
  ~MpiGroup() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  const char* backend() const override { return "mpi"; }

  void all_reduce_sum_f32(float* data, size_t count, Device device) override {
    Staged s(data, count * sizeof(float), device);
    MPI_Request req;
    MPI_Iallreduce(MPI_IN_PLACE, s.host, checked_count(count, "all_reduce"), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                   &req);
    wait(req, timeout_s_, "all_reduce of " + std::to_string(count) + " floats");
    s.write_back();
  }

  void all_gather_bytes(const void* in, void* out, size_t bytes, Device device) override {
    Staged src(const_cast<void*>(in), bytes, device), dst(out, bytes * size_t(world_), device, /*read=*/false);
    MPI_Request req;
    MPI_Iallgather(src.host, checked_count(bytes, "all_gather"), MPI_BYTE, dst.host, int(bytes), MPI_BYTE,
                   MPI_COMM_WORLD, &req);
    wait(req, timeout_s_, "all_gather of " + std::to_string(bytes) + " bytes");
    dst.write_back();
  }

  void broadcast_bytes(void* data, size_t bytes, int root, Device device) override {
    Staged s(data, bytes, device);
    MPI_Request req;
    MPI_Ibcast(s.host, checked_count(bytes, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD, &req);
    wait(req, timeout_s_, "broadcast of " + std::to_string(bytes) + " bytes");
    s.write_back();
  }

  void barrier() override {
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    wait(req, timeout_s_, "barrier");
  }

  [[noreturn]] void abort(const std::string& message) override { mpi_detail::abort_world(message); }

 private:
  // Host memory for MPI: the pointer itself on cpu/simt, a host copy of cuda memory.
  struct Staged {
    Staged(void* p, size_t n, Device d, bool read = true) : ptr(p), bytes(n), device(d) {
      if (device != Device::cuda) {
        host = ptr;
        return;
      }
      buffer.resize(bytes);
      host = buffer.data();
      if (read) copy_bytes(host, Device::cpu, ptr, device, bytes);
    }
    void write_back() {
      if (device == Device::cuda) copy_bytes(ptr, device, host, Device::cpu, bytes);
    }
    void* ptr;
    size_t bytes;
    Device device;
    std::vector<unsigned char> buffer;
    void* host = nullptr;
  };

  double timeout_s_;
  int rank_ = 0, world_ = 1;
};

}  // namespace

std::shared_ptr<ProcessGroup> make_mpi_group(double timeout_s) { return std::make_shared<MpiGroup>(timeout_s); }

}  // namespace bt::dist
#endif  // BT_HAVE_MPI
