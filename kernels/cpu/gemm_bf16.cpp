#include "kernels/cpu/gemm_bf16.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "kernels/cpu/dnnl_support.h"

namespace bt::cpu {
namespace {

using dnnl::memory;
using dnnl_support::Arena;
using dnnl_support::Plan;
using dnnl_support::Step;

// Arenas 0 and 1 back the bf16 copies of A and B, arena 2 the scratchpads.
constexpr int kArenas = 3, kScratchArena = 2;

struct Key {
  bool trans_a, trans_b;
  int64_t M, N, K, lda, ldb, ldc;
  auto operator<=>(const Key&) const = default;
};

// One cached shape: reorder A and B to bf16, the matmul; the plan's user memories are the
// caller's A, B, C (float32, their strides).
struct Entry {
  Plan plan;
  std::string impl;
};

struct Cache {
  std::mutex mu;
  std::array<Arena, kArenas> arenas;
  std::map<Key, std::unique_ptr<Entry>> entries;
};

Cache& cache() {
  static Cache c;
  return c;
}

// The (rows, cols) matrix op(X) of a row-major X with row stride ld, stored transposed or not.
memory::desc matrix(int64_t rows, int64_t cols, bool trans, int64_t ld, memory::data_type t) {
  return memory::desc({rows, cols}, t, trans ? memory::dims{1, ld} : memory::dims{ld, 1});
}

std::unique_ptr<Entry> build(const Key& k) {
  const dnnl::engine& eng = dnnl_support::engine();
  using dt = memory::data_type;
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  // The bf16 copies are dense. A's is always row-major (the reorder transposes a transposed A):
  // oneDNN 2.6's brgemm matmul runs a transposed bf16 A (a weight gradient Xᵀ dY) at 0.6× the
  // speed of a row-major one. B keeps the caller's orientation, both run at one speed.
  const std::array<memory::desc, 3> user_md{matrix(k.M, k.K, k.trans_a, k.lda, dt::f32),
                                            matrix(k.K, k.N, k.trans_b, k.ldb, dt::f32),
                                            matrix(k.M, k.N, false, k.ldc, dt::f32)};
  const std::array<memory::desc, 2> copy_md{matrix(k.M, k.K, false, k.K, dt::bf16),
                                            matrix(k.K, k.N, k.trans_b, k.trans_b ? k.K : k.N, dt::bf16)};
  const dnnl::matmul::primitive_desc pd({copy_md[0], copy_md[1], user_md[2]}, attr, eng);
  auto e = std::make_unique<Entry>();
  std::array<dnnl_memory_t, 3> user;
  for (int i = 0; i < 3; ++i) user[i] = e->plan.add_user(user_md[i]);
  Step mm{dnnl::matmul(pd), {}};
  for (int i = 0; i < 2; ++i) {
    const dnnl_memory_t copy = e->plan.add_internal(copy_md[i], i);
    const dnnl::reorder::primitive_desc rpd(eng, user_md[i], eng, copy_md[i], attr);
    Step r{dnnl::reorder(rpd), {{DNNL_ARG_FROM, user[i]}, {DNNL_ARG_TO, copy}}};
    e->plan.add_scratchpad(r, rpd.scratchpad_desc(), kScratchArena);
    e->plan.steps.push_back(std::move(r));
    mm.args.push_back({i == 0 ? DNNL_ARG_SRC : DNNL_ARG_WEIGHTS, copy});
  }
  mm.args.push_back({DNNL_ARG_DST, user[2]});
  e->plan.add_scratchpad(mm, pd.scratchpad_desc(), kScratchArena);
  e->plan.steps.push_back(std::move(mm));
  e->impl = pd.impl_info_str();
  return e;
}

Entry& lookup(Cache& c, const Key& k) {
  if (k.M <= 0 || k.N <= 0 || k.K <= 0) throw std::invalid_argument("gemm_bf16: M, N and K must be positive");
  if (k.lda < (k.trans_a ? k.M : k.K) || k.ldb < (k.trans_b ? k.K : k.N) || k.ldc < k.N)
    throw std::invalid_argument("gemm_bf16: a row stride is shorter than its row");
  auto it = c.entries.find(k);
  if (it == c.entries.end()) it = c.entries.emplace(k, build(k)).first;
  return *it->second;
}

}  // namespace

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
               const float* B, int64_t ldb, float* C, int64_t ldc) {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  Entry& e = lookup(c, {trans_a, trans_b, M, N, K, lda, ldb, ldc});
  e.plan.run(c.arenas, {A, B, C}, "gemm_bf16");
}

std::string gemm_bf16_impl(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb,
                           int64_t ldc) {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  return lookup(c, {trans_a, trans_b, M, N, K, lda, ldb, ldc}).impl;
}

}  // namespace bt::cpu
