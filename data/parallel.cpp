#include "data/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace bt::data {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, int(std::thread::hardware_concurrency()));
}

void parallel_for(int64_t n, int threads, const std::function<void(int64_t i)>& fn,
                  int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int workers = int(std::min<int64_t>(resolve_threads(threads), (n + grain - 1) / grain));
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&] {
    for (;;) {
      const int64_t begin = next.fetch_add(grain);
      if (begin >= n || failed.load()) return;
      try {
        for (int64_t i = begin; i < std::min(n, begin + grain); ++i) fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace bt::data
