// The host side of the SIMT emulator: schedule configuration, launch validation and the pool
// of OS threads that runs the blocks of a grid (docs/design.md §4).
#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "simt_internal.h"
#include "simt_memory.h"

namespace simt {
namespace detail {

std::string site_str(const std::source_location& s) {
  return std::string(s.file_name()) + ":" + std::to_string(s.line()) + ":" +
         std::to_string(s.column());
}

std::string dim_str(unsigned x, unsigned y, unsigned z) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "(%u,%u,%u)", x, y, z);
  return buf;
}

namespace {

std::mutex g_config_mutex;
std::optional<Schedule> g_override;  // set by ScopedSchedule
std::atomic<int> g_threads{0};       // 0: SIMT_THREADS or hardware_concurrency

Schedule env_schedule() {
  const char* s = std::getenv("SIMT_SCHEDULE");
  return s && *s ? parse_schedule(s) : Schedule{};
}

// The blocks of one launch, claimed one at a time by the OS threads of the pool.
struct Job {
  const LaunchDesc* d;
  Schedule schedule;
  uint64_t nblocks;
  std::vector<uint32_t> order;  // random: a permutation of the blocks
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;

  void work() {
    while (!failed.load(std::memory_order_relaxed)) {
      uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= nblocks) return;
      uint64_t b = schedule.kind == Schedule::reverse ? nblocks - 1 - i
                   : order.empty()                    ? i
                                                      : order[i];
      try {
        run_block(*d, schedule, b);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  }
};

// Worker OS threads; the launching thread works too, so a pool of n runs n - 1 of them.
class Pool {
 public:
  ~Pool() { resize(0); }

  void run(Job& job, int nthreads) {
    if (int(threads_.size()) != nthreads - 1) resize(nthreads - 1);
    if (threads_.empty() || job.nblocks == 1) {
      job.work();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = &job;
      ++generation_;
      busy_ = int(threads_.size());
    }
    work_cv_.notify_all();
    job.work();
    std::unique_lock<std::mutex> lock(m_);
    done_cv_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
  }

 private:
  void resize(int n) {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    stop_ = false;
    // A new thread starts from the current generation: it must not miss the next job.
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, g = generation_] { loop(g); });
  }

  void loop(uint64_t seen) {
    for (;;) {
      Job* job;
      {
        std::unique_lock<std::mutex> lock(m_);
        work_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      job->work();
      std::lock_guard<std::mutex> lock(m_);
      if (--busy_ == 0) done_cv_.notify_one();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable work_cv_, done_cv_;
  Job* job_ = nullptr;
  uint64_t generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
};

std::string config_error(const LaunchDesc& d, const std::string& what) {
  return "simt: invalid launch configuration of kernel `" + kernel_name(d.kernel) + "` at " +
         site_str(d.where) + " in `" + d.where.function_name() + "`: " + what + " (grid " +
         dim_str(d.grid.x, d.grid.y, d.grid.z) + ", block " +
         dim_str(d.block.x, d.block.y, d.block.z) + ", " + std::to_string(d.smem) +
         " bytes of dynamic shared memory)";
}

}  // namespace

void run(const LaunchDesc& d) {
  if (inside_kernel())
    throw Error("simt: launch at " + site_str(d.where) +
                " from inside a kernel (dynamic parallelism is not supported)");
  const uint64_t nthreads = uint64_t(d.block.x) * d.block.y * d.block.z;
  if (nthreads == 0 || nthreads > 1024 || d.block.z > 64)
    throw Error(config_error(d, "a block has 1 to 1024 threads, blockDim.z <= 64"));
  if (d.grid.x == 0 || d.grid.y == 0 || d.grid.z == 0 || d.grid.x > 0x7fffffffu ||
      d.grid.y > 65535 || d.grid.z > 65535)
    throw Error(config_error(d, "grid dimensions must be in [1, 2^31-1] x [1, 65535]^2"));
  if (d.smem > 227 * 1024)
    throw Error(config_error(d, "more than 227 KiB of dynamic shared memory"));

  const ArenaAccess access;  // kernels may touch device memory until the launch returns
  for (int k = 0; k < d.npointers; ++k)
    if (std::string why = kernel_pointer_problem(d.pointers[k]); !why.empty()) {
      char addr[32];
      std::snprintf(addr, sizeof addr, "%p", d.pointers[k]);
      throw Error("simt: kernel `" + kernel_name(d.kernel) + "` launched at " + site_str(d.where) + ": argument " +
                  std::to_string(d.pointer_index[k]) + " (" + addr + ") " + why);
    }

  static std::mutex launch_mutex;  // one launch at a time; the pool is shared
  static Pool pool;
  std::lock_guard<std::mutex> lock(launch_mutex);
  Job job;
  job.d = &d;
  job.schedule = current_schedule();
  job.nblocks = uint64_t(d.grid.x) * d.grid.y * d.grid.z;
  if (job.schedule.kind == Schedule::random && job.nblocks > 1 && job.nblocks <= (1u << 24)) {
    job.order.resize(job.nblocks);
    for (uint32_t i = 0; i < job.nblocks; ++i) job.order[i] = i;
    uint64_t r = mix64(job.schedule.seed);
    for (uint64_t i = job.nblocks - 1; i > 0; --i) {
      r = mix64(r);
      std::swap(job.order[i], job.order[r % (i + 1)]);
    }
  }
  pool.run(job, num_threads());
  const std::string why = guard_problem();  // restores an overwritten guard even when the launch failed
  if (job.error) std::rethrow_exception(job.error);
  if (!why.empty())
    throw Error("simt: kernel `" + kernel_name(d.kernel) + "` launched at " + site_str(d.where) + " " + why);
}

}  // namespace detail

std::string Schedule::str() const {
  switch (kind) {
    case forward:
      return "forward";
    case reverse:
      return "reverse";
    case random:
      return "random:" + std::to_string(seed);
  }
  return "?";
}

Schedule parse_schedule(std::string_view text) {
  if (text == "forward") return {Schedule::forward, 0};
  if (text == "reverse") return {Schedule::reverse, 0};
  if (text.starts_with("random:")) {
    std::string_view num = text.substr(7);
    uint64_t seed = 0;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), seed);
    if (ec == std::errc() && end == num.data() + num.size() && !num.empty())
      return {Schedule::random, seed};
  }
  throw Error("simt: bad schedule '" + std::string(text) +
              "' (SIMT_SCHEDULE is forward, reverse or random:SEED)");
}

Schedule current_schedule() {
  {
    std::lock_guard<std::mutex> lock(detail::g_config_mutex);
    if (detail::g_override) return *detail::g_override;
  }
  return detail::env_schedule();
}

ScopedSchedule::ScopedSchedule(Schedule s) {
  std::lock_guard<std::mutex> lock(detail::g_config_mutex);
  had_prev_ = detail::g_override.has_value();
  prev_ = detail::g_override.value_or(Schedule{});
  detail::g_override = s;
}

ScopedSchedule::~ScopedSchedule() {
  std::lock_guard<std::mutex> lock(detail::g_config_mutex);
  if (had_prev_)
    detail::g_override = prev_;
  else
    detail::g_override.reset();
}

namespace {
std::atomic<int> g_gpu_grids{0};  // live ScopedGpuGrids
}  // namespace

ScopedGpuGrids::ScopedGpuGrids() { ++g_gpu_grids; }
ScopedGpuGrids::~ScopedGpuGrids() { --g_gpu_grids; }

bool small_grids() {
  if (g_gpu_grids.load() > 0) return false;
  static const bool env_gpu = [] {
    const char* s = std::getenv("SIMT_GRIDS");
    return s && std::string_view(s) == "gpu";
  }();
  return !env_gpu;
}

void set_num_threads(int n) { detail::g_threads = std::max(n, 0); }

int num_threads() {
  if (int n = detail::g_threads.load()) return n;
  if (const char* s = std::getenv("SIMT_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) return n;
  }
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace simt
