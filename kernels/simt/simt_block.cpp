// The per-block scheduler of the SIMT emulator: CUDA threads as Boost.Context fibers, block
// barriers, warp collectives, deadlock and divergence reports (docs/simt.md).
//
// Each OS thread that runs blocks owns a Worker: up to 1024 persistent fibers (one per thread
// slot, 64 KiB stacks with a guard page) that are reused from block to block. A fiber runs its
// CUDA thread until it blocks (barrier, warp collective) or finishes, then switches straight
// to the next ready thread in schedule order; the last thread to reach a barrier releases it.
// When no thread can run, control returns to the scheduler (run_block), which finishes the
// block or reports why it cannot (deadlock, divergent barrier, early exit).
#include <algorithm>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <vector>

#include "simt_check.h"
#include "simt_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define SIMT_ASAN 1
#endif

namespace simt::detail {
namespace {

namespace bc = boost::context;

#if SIMT_ASAN
constexpr std::size_t kStackBytes = 512 * 1024;  // ASan frames are larger
#else
constexpr std::size_t kStackBytes = 64 * 1024;
#endif
constexpr unsigned kMaxThreads = 1024;

enum class State : uint8_t { ready, barrier, warp, done };

struct Thread {
  bc::fiber fib;  // this CUDA thread while it is suspended
  uint3 idx;
  unsigned linear = 0;
  State state = State::done;
  std::source_location site;  // where it is blocked
  BarrierOp bop = BarrierOp::sync;
  int pred = 0;
  Collective op = Collective::syncwarp;
  unsigned mask = 0;
  int param = 0, width = 32;
  uint64_t in = 0, out = 0;
  std::exception_ptr error;
  void* stack_bottom = nullptr;  // for the ASan fiber annotations
  std::size_t stack_size = 0;
  void* fake_stack = nullptr;
};

struct Group {  // a warp collective waiting for its lanes
  unsigned mask, arrived;
  Collective op;
};

struct Worker;
thread_local Worker* t_worker = nullptr;

struct Worker {
  std::unique_ptr<Thread[]> threads{new Thread[kMaxThreads]};
  unsigned fibers = 0;  // slots [0, fibers) have a fiber
  const LaunchDesc* d = nullptr;
  Thread* current = nullptr;
  unsigned nthreads = 0;
  std::vector<Group> groups[kMaxThreads / 32];
  std::vector<unsigned> ready;
  std::size_t head = 0;
  Schedule::Kind kind = Schedule::forward;
  uint64_t rng = 0;
  int barrier_result = 0;
  unsigned n_barrier = 0;    // threads waiting at the block barrier
  Thread* failed = nullptr;  // a thread whose kernel code threw
  bc::fiber sched;           // the scheduler (run_block) while a fiber runs
  void* sched_fake = nullptr;
  bc::fiber* from_slot = nullptr;  // where the context switched to stores its switcher
  void* smem = nullptr;
  std::size_t smem_bytes = 0;
  bool aborting = false;              // drop_fibers: suspended fibers unwind and return
  const void* main_bottom = nullptr;  // the OS thread's own stack, for ASan
  std::size_t main_size = 0;

  ~Worker() {
    t_worker = nullptr;
    drop_fibers();
    ::operator delete(smem, std::align_val_t(128));
  }
  void drop_fibers();
  unsigned next_random(unsigned n) {
    rng = mix64(rng);
    return unsigned(rng % n);
  }
  unsigned valid_lanes(unsigned warp) const {
    unsigned lanes = std::min(32u, nthreads - warp * 32);
    return lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
  }
};

std::atomic<uint64_t> g_epoch{1};

Worker& worker() {
  thread_local std::unique_ptr<Worker> w;
  if (!w) {
    w = std::make_unique<Worker>();
    t_worker = w.get();
  }
  return *w;
}

// A fixed-size stack with a guard page that remembers its bounds for the ASan annotations.
struct RecordingStack {
  bc::protected_fixedsize_stack inner{kStackBytes};
  Thread* t;
  bc::stack_context allocate() {
    bc::stack_context s = inner.allocate();
    t->stack_bottom = static_cast<char*>(s.sp) - s.size;
    t->stack_size = s.size;
    return s;
  }
  void deallocate(bc::stack_context& s) noexcept { inner.deallocate(s); }
};

// Thrown at a fiber's suspension point by drop_fibers, to unwind the kernel frames on it.
struct AbortFiber {};

// The context that just received the OS thread stores the handle of the one that left it.
void arrived(Worker& w, bc::fiber&& from, void* fake_stack) {
#if SIMT_ASAN
  const void* bottom = nullptr;
  std::size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (w.from_slot == &w.sched) w.main_bottom = bottom, w.main_size = size;
#else
  (void)fake_stack;
#endif
  *w.from_slot = std::move(from);
}

// Switches from `me` to `to` (nullptr: the scheduler, on the OS thread's own stack). Returns
// when some context switches back to `me`. Fibers switch directly to each other: one jump per
// blocked thread.
void switch_to(Worker& w, Thread* me, Thread* to) {
  bc::fiber& dst = to ? to->fib : w.sched;
  w.current = to;
  if (to) threadIdx = to->idx;
  check_thread(to ? to->linear : kNoThread);
  w.from_slot = me ? &me->fib : &w.sched;
  void** fake = me ? &me->fake_stack : &w.sched_fake;
#if SIMT_ASAN
  __sanitizer_start_switch_fiber(fake, to ? to->stack_bottom : w.main_bottom,
                                 to ? to->stack_size : w.main_size);
#endif
  bc::fiber from = std::move(dst).resume();
  arrived(w, std::move(from), *fake);
  if (me && w.aborting) throw AbortFiber{};
}

Thread* pop_ready(Worker& w) {
  if (w.head == w.ready.size()) {
    w.ready.clear();
    w.head = 0;
    return nullptr;
  }
  if (w.kind == Schedule::random) {
    std::size_t k = w.head + w.next_random(unsigned(w.ready.size() - w.head));
    std::swap(w.ready[w.head], w.ready[k]);
  }
  return &w.threads[w.ready[w.head++]];
}

void release_or_report(Worker& w);

// Thread t has blocked (barrier, warp collective) or finished: it hands the OS thread to the
// next ready thread, releasing the barrier first when every thread has arrived; with nothing
// to run it returns to the scheduler, which finishes the block or reports why it is stuck.
void pass_on(Worker& w, Thread& t) {
  Thread* next = pop_ready(w);
  if (!next && w.n_barrier == w.nthreads) {
    release_or_report(w);  // throws on a divergent barrier
    next = pop_ready(w);
  }
  if (next == &t) return;
  switch_to(w, &t, next);
}

// A persistent fiber: runs the kernel as the CUDA thread of its slot, block after block.
bc::fiber make_fiber(Worker* w, Thread* t) {
  return bc::fiber(std::allocator_arg, RecordingStack{{kStackBytes}, t},
                   [w, t](bc::fiber&& from) -> bc::fiber {
                     arrived(*w, std::move(from), nullptr);
                     try {
                       while (!w->aborting) {
                         try {
                           w->d->thunk(w->d->ctx);
                         } catch (const AbortFiber&) {
                           throw;
                         } catch (const bc::detail::forced_unwind&) {
                           throw;
                         } catch (...) {
                           t->error = std::current_exception();
                         }
                         t->state = State::done;
                         if (t->error) {
                           w->failed = t;
                           switch_to(*w, t, nullptr);
                         } else {
                           pass_on(*w, *t);
                         }
                       }
                     } catch (const AbortFiber&) {
                     }
                     // The fiber ends: its stack is freed and the scheduler resumes.
                     w->current = nullptr;
                     w->from_slot = &t->fib;
#if SIMT_ASAN
                     __sanitizer_start_switch_fiber(nullptr, w->main_bottom, w->main_size);
#endif
                     return std::move(w->sched);
                   });
}

// Unwinds every fiber through the annotated switch path (a suspended fiber destroyed by
// ~fiber would unwind behind ASan's back) and frees the stacks. Runs on the scheduler.
void Worker::drop_fibers() {
  aborting = true;
  for (unsigned i = 0; i < fibers; ++i)
    if (threads[i].fib) switch_to(*this, nullptr, &threads[i]);
  aborting = false;
  fibers = 0;
}

const char* collective_name(Collective op) {
  switch (op) {
    case Collective::shfl_idx:
      return "__shfl_sync";
    case Collective::shfl_up:
      return "__shfl_up_sync";
    case Collective::shfl_down:
      return "__shfl_down_sync";
    case Collective::shfl_xor:
      return "__shfl_xor_sync";
    case Collective::ballot:
      return "__ballot_sync/__any_sync/__all_sync";
    case Collective::syncwarp:
      return "__syncwarp";
  }
  return "?";
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string tid_str(const Thread& t) { return dim_str(t.idx.x, t.idx.y, t.idx.z); }

// Every error: "simt: <kind> in kernel `<function>`: <detail> [block, launch site]". The
// function is the one containing the blocked call (the kernel, or a __device__ helper).
[[noreturn]] void fail(const Worker& w, const char* kind, const std::string& detail,
                       const std::source_location* in) {
  std::string s = std::string("simt: ") + kind;
  if (in) s += std::string(" in kernel `") + in->function_name() + "`";
  s += ": " + detail + " [block " + dim_str(blockIdx.x, blockIdx.y, blockIdx.z) + ", kernel `" +
       kernel_name(w.d->kernel) + "` launched at " +
       site_str(w.d->where) + " in `" + w.d->where.function_name() + "`]";
  throw Error(s);
}

Worker& running(const char* what) {
  Worker* w = t_worker;
  if (!w || !w->current) throw Error(std::string("simt: ") + what + " called outside a kernel");
  return *w;
}

bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

// Appends lanes `lanes` of warp `warp` to the ready queue in schedule order.
void push_lanes(Worker& w, unsigned warp, unsigned lanes) {
  for (unsigned k = 0; k < 32; ++k) {
    unsigned lane = w.kind == Schedule::reverse ? 31 - k : k;
    if (lanes >> lane & 1u) {
      w.threads[warp * 32 + lane].state = State::ready;
      w.ready.push_back(warp * 32 + lane);
    }
  }
}

// Computes every lane's result of a completed collective (PTX shfl.sync semantics).
void complete(Worker& w, unsigned warp, unsigned need, Collective op) {
  Thread* lane0 = &w.threads[warp * 32];
  if (op == Collective::syncwarp) return check_syncwarp(warp, need);
  if (op == Collective::ballot) {
    unsigned bits = 0;
    for (unsigned l = 0; l < 32; ++l)
      if ((need >> l & 1u) && lane0[l].in) bits |= 1u << l;
    for (unsigned l = 0; l < 32; ++l)
      if (need >> l & 1u) lane0[l].out = bits;
    return;
  }
  for (int l = 0; l < 32; ++l) {
    if (!(need >> l & 1u)) continue;
    Thread& t = lane0[l];
    int seg = (32 - t.width) & 31, clamp = op == Collective::shfl_up ? 0 : 31;
    int min_lane = l & seg, max_lane = min_lane | (clamp & ~seg), j = l;
    bool ok = true;
    switch (op) {
      case Collective::shfl_idx:
        j = min_lane | (t.param & ~seg & 31);
        break;
      case Collective::shfl_up:
        j = l - t.param;
        ok = t.param >= 0 && j >= max_lane;
        break;
      case Collective::shfl_down:
        j = l + t.param;
        ok = t.param >= 0 && j <= max_lane;
        break;
      case Collective::shfl_xor:
        j = l ^ (t.param & 31);
        ok = j <= max_lane;
        break;
      default:
        break;
    }
    if (!ok) j = l;  // out of the segment: the lane's own value
    if (!(need >> j & 1u))
      fail(w, "bad shuffle",
           std::string(collective_name(op)) + " at " + site_str(t.site) + ": lane " +
               std::to_string(l) + " of warp " + std::to_string(warp) + " reads lane " +
               std::to_string(j) + ", which is not in the mask " + hex(t.mask),
           &t.site);
    t.out = lane0[j].in;
  }
}

// At quiescence (no thread ready): releases the barrier, or explains why the block is stuck.
void release_or_report(Worker& w) {
  const Thread* at_barrier = nullptr;
  const Thread* exited = nullptr;
  unsigned n_barrier = 0, n_done = 0;
  for (unsigned i = 0; i < w.nthreads; ++i) {
    const Thread& t = w.threads[i];
    if (t.state == State::warp) {
      // A stuck collective: name the first missing lane and what it is doing.
      unsigned warp = i / 32;
      for (const Group& g : w.groups[warp]) {
        unsigned missing = g.mask & w.valid_lanes(warp) & ~g.arrived;
        unsigned m = unsigned(std::countr_zero(missing));
        const Thread& o = w.threads[warp * 32 + m];
        const Thread& waiter = w.threads[warp * 32 + unsigned(std::countr_zero(g.arrived))];
        std::string doing = o.state == State::done ? "has exited"
                            : o.state == State::barrier
                                ? "waits at __syncthreads at " + site_str(o.site)
                                : std::string("waits at ") + collective_name(o.op) + " at " +
                                      site_str(o.site) + " with mask " + hex(o.mask);
        fail(w, "deadlock",
             "lanes " + hex(g.arrived) + " of warp " + std::to_string(warp) + " wait at " +
                 collective_name(g.op) + " at " + site_str(waiter.site) + " with mask " +
                 hex(g.mask) + ", but lane " + std::to_string(m) + " " + doing,
             &waiter.site);
      }
    }
    if (t.state == State::done) {
      ++n_done;
      if (!exited) exited = &t;
    } else if (t.state == State::barrier) {
      ++n_barrier;
      if (!at_barrier) {
        at_barrier = &t;
      } else if (!same_site(t.site, at_barrier->site) || t.bop != at_barrier->bop) {
        fail(w, "divergent __syncthreads",
             "thread " + tid_str(*at_barrier) + " waits at " + site_str(at_barrier->site) +
                 " but thread " + tid_str(t) + " at " + site_str(t.site),
             &at_barrier->site);
      }
    }
  }
  if (n_barrier == 0) return;  // all done
  if (n_done > 0)
    fail(w, "deadlock",
         std::to_string(n_barrier) + " thread(s) wait at __syncthreads at " +
             site_str(at_barrier->site) + " but " + std::to_string(n_done) +
             " thread(s) have exited (e.g. thread " + tid_str(*exited) +
             "); __syncthreads must be reached by every thread of the block",
         &at_barrier->site);
  int r = at_barrier->bop == BarrierOp::and_ ? 1 : 0;
  for (unsigned i = 0; i < w.nthreads; ++i) {
    int p = w.threads[i].pred;
    if (at_barrier->bop == BarrierOp::count) r += p;
    if (at_barrier->bop == BarrierOp::and_) r &= p;
    if (at_barrier->bop == BarrierOp::or_) r |= p;
  }
  w.barrier_result = r;
  w.n_barrier = 0;
  check_barrier_released();
  w.ready.clear();
  w.head = 0;
  for (unsigned k = 0; k < w.nthreads; ++k) {
    unsigned i = w.kind == Schedule::reverse ? w.nthreads - 1 - k : k;
    w.threads[i].state = State::ready;
    w.ready.push_back(i);
  }
}

void schedule_block(Worker& w) {
  for (;;) {
    Thread* next = pop_ready(w);
    if (!next) {
      release_or_report(w);  // throws when stuck
      next = pop_ready(w);
      if (!next) return;  // every thread is done
    }
    switch_to(w, nullptr, next);  // back when no thread can run, or one threw
    if (Thread* t = std::exchange(w.failed, nullptr)) {
      std::exception_ptr e = std::exchange(t->error, nullptr);
      try {
        std::rethrow_exception(e);
      } catch (const Error&) {
        throw;  // already says where
      } catch (const std::exception& ex) {
        fail(w, "exception", "kernel thread " + tid_str(*t) + " threw: " + ex.what(), nullptr);
      } catch (...) {
        fail(w, "exception", "kernel thread " + tid_str(*t) + " threw a non-std exception",
             nullptr);
      }
    }
  }
}

}  // namespace

bool inside_kernel() { return t_worker && t_worker->d; }

void run_block(const LaunchDesc& d, const Schedule& schedule, uint64_t linear) {
  Worker& w = worker();
  const unsigned n = d.block.x * d.block.y * d.block.z;
  while (w.fibers < n) {
    Thread* t = &w.threads[w.fibers];
    t->fib = make_fiber(&w, t);
    ++w.fibers;
  }
  blockIdx = {unsigned(linear % d.grid.x), unsigned(linear / d.grid.x % d.grid.y),
              unsigned(linear / (uint64_t(d.grid.x) * d.grid.y))};
  blockDim = d.block;
  gridDim = d.grid;
  block_epoch = g_epoch.fetch_add(1, std::memory_order_relaxed);
  block_static_shared = 0;
  if (w.smem_bytes != d.smem || !w.smem) {  // exactly d.smem bytes, so ASan sees overruns
    ::operator delete(w.smem, std::align_val_t(128));
    w.smem = ::operator new(std::max<std::size_t>(d.smem, 1), std::align_val_t(128));
    w.smem_bytes = d.smem;
  }
  std::memset(w.smem, 0xFF, d.smem);  // poison: NaN for floats
  w.d = &d;
  w.nthreads = n;
  w.kind = schedule.kind;
  w.rng = mix64(schedule.seed ^ mix64(linear));
  for (auto& g : w.groups) g.clear();
  w.ready.clear();
  w.head = 0;
  w.n_barrier = 0;
  w.failed = nullptr;
  for (unsigned i = 0; i < n; ++i) {
    Thread& t = w.threads[i];
    t.linear = i;
    t.idx = {i % d.block.x, i / d.block.x % d.block.y, i / (d.block.x * d.block.y)};
    t.state = State::ready;
    t.error = nullptr;
    t.pred = 0;
    w.ready.push_back(w.kind == Schedule::reverse ? n - 1 - i : i);
  }
  check_block_begin(d.kernel, w.smem, d.smem, n);
  try {
    schedule_block(w);
  } catch (...) {
    check_block_end();
    w.d = nullptr;
    w.drop_fibers();  // some are suspended mid-kernel: unwind them
    throw;
  }
  const CheckProblem problem = check_problem();
  check_block_end();
  if (!problem.kind.empty()) {
    try {
      fail(w, problem.kind.c_str(), problem.detail, nullptr);
    } catch (...) {
      w.d = nullptr;
      throw;
    }
  }
  w.d = nullptr;
}

int barrier(BarrierOp op, int pred, const std::source_location& where) {
  Worker& w = running("__syncthreads");
  Thread& t = *w.current;
  t.state = State::barrier;
  t.site = where;
  t.bop = op;
  t.pred = pred;
  ++w.n_barrier;
  pass_on(w, t);
  return w.barrier_result;
}

uint64_t warp_collective(Collective op, unsigned mask, uint64_t value, int param, int width,
                         const std::source_location& where) {
  Worker& w = running(collective_name(op));
  Thread& t = *w.current;
  const unsigned lane = t.linear % 32, warp = t.linear / 32;
  if (!(mask >> lane & 1u))
    fail(w, "bad warp collective",
         std::string(collective_name(op)) + " at " + site_str(where) + ": lane " +
             std::to_string(lane) + " is not in its own mask " + hex(mask),
         &where);
  if (width < 1 || width > 32 || (width & (width - 1)))
    fail(w, "bad warp collective",
         std::string(collective_name(op)) + " at " + site_str(where) + ": width " +
             std::to_string(width) + " is not a power of two in [1, 32]",
         &where);
  t.op = op;
  t.mask = mask;
  t.in = value;
  t.param = param;
  t.width = width;
  t.site = where;
  const unsigned need = mask & w.valid_lanes(warp);
  std::vector<Group>& groups = w.groups[warp];
  Group* g = nullptr;
  for (Group& x : groups) {
    if (x.mask == mask) {
      g = &x;
    } else if (x.mask & mask) {
      const Thread& o = w.threads[warp * 32 + unsigned(std::countr_zero(x.arrived))];
      fail(w, "mismatched warp masks",
           std::string("lane ") + std::to_string(lane) + " of warp " + std::to_string(warp) +
               " calls " + collective_name(op) + " at " + site_str(where) + " with mask " +
               hex(mask) + " while lanes " + hex(x.arrived) + " wait at " + collective_name(x.op) +
               " at " + site_str(o.site) + " with mask " + hex(x.mask),
           &where);
    }
  }
  if (!g) g = &groups.emplace_back(Group{mask, 0, op});
  if (g->op != op) {
    const Thread& o = w.threads[warp * 32 + unsigned(std::countr_zero(g->arrived))];
    fail(w, "divergent warp collectives",
         std::string("warp ") + std::to_string(warp) + ": " + collective_name(g->op) + " at " +
             site_str(o.site) + " and " + collective_name(op) + " at " + site_str(where),
         &where);
  }
  g->arrived |= 1u << lane;
  if (g->arrived != need) {
    t.state = State::warp;
    pass_on(w, t);
    return t.out;
  }
  // The last lane to arrive computes every lane's result and wakes the others.
  complete(w, warp, need, op);
  groups.erase(groups.begin() + (g - groups.data()));
  push_lanes(w, warp, need & ~(1u << lane));
  return t.out;
}

void static_shared_overflow(std::size_t bytes) {
  Worker& w = running("SIMT_SHARED");
  fail(w, "static shared memory over 48 KiB",
       std::to_string(bytes) + " bytes declared with SIMT_SHARED (a GPU allows " + std::to_string(kMaxStaticShared) +
           " statically; use SIMT_DYNAMIC_SHARED and an opt-in for more)",
       nullptr);
}

void* dynamic_shared() {
  Worker& w = running("SIMT_DYNAMIC_SHARED");
  return w.smem_bytes ? w.smem : nullptr;
}

}  // namespace simt::detail
