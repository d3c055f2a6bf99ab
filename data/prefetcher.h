#pragma once
// Prefetcher<B>: makes batches 0..n−1 on worker threads, at most `depth` ahead of the consumer
// (a bounded queue), and hands them out in order. Which thread makes a batch never changes its
// content: make(b) must be a pure function of b.
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace bt::data {

template <class B>
class Prefetcher {
 public:
  using Make = std::function<B(int64_t batch)>;

  Prefetcher() = default;
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  ~Prefetcher() { stop(); }

  // Stops any previous run, then starts `threads` workers on batches [0, n).
  void start(int64_t n, int threads, int depth, Make make) {
    stop();
    n_ = n;
    depth_ = depth < 1 ? 1 : depth;
    claimed_ = delivered_ = 0;
    stopping_ = false;
    error_ = nullptr;
    make_ = std::move(make);
    for (int t = 0; t < (threads < 1 ? 1 : threads); ++t) workers_.emplace_back([this] { work(); });
  }

  // The next batch in order; false once all n were delivered. Rethrows a worker's exception.
  bool next(B& out) {
    std::unique_lock<std::mutex> lock(mu_);
    if (delivered_ >= n_) return false;
    produced_.wait(lock, [&] { return error_ || ready_.count(delivered_); });
    if (error_) std::rethrow_exception(error_);
    auto it = ready_.find(delivered_);
    out = std::move(it->second);
    ready_.erase(it);
    ++delivered_;
    consumed_.notify_all();
    return true;
  }

  // Abandons the batches not yet delivered and joins the workers.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    consumed_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    ready_.clear();
  }

 private:
  void work() {
    for (;;) {
      int64_t b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        consumed_.wait(lock, [&] {
          return stopping_ || error_ || claimed_ >= n_ || claimed_ < delivered_ + depth_;
        });
        if (stopping_ || error_ || claimed_ >= n_) return;
        b = claimed_++;
      }
      try {
        B batch = make_(b);
        std::lock_guard<std::mutex> lock(mu_);
        ready_.emplace(b, std::move(batch));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
        consumed_.notify_all();  // idle workers stop too
      }
      produced_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable produced_, consumed_;
  std::map<int64_t, B> ready_;
  std::vector<std::thread> workers_;
  Make make_;
  std::exception_ptr error_;
  int64_t n_ = 0, claimed_ = 0, delivered_ = 0;
  int depth_ = 1;
  bool stopping_ = false;
};

}  // namespace bt::data
