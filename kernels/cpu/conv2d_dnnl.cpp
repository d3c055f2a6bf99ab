#include "kernels/cpu/conv2d_dnnl.h"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/dnnl_support.h"

namespace bt::cpu {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dnnl_support::Arena;
using dnnl_support::Plan;
using dnnl_support::Step;

// Arenas 0..2 back the primitive-layout copies of the three tensor arguments (in0, in1, out);
// arena 3 the scratchpads; arena 4 the copy of dy that a backward_data and the backward_weight
// after it share. Entries run one at a time, so all of them share the five arenas.
constexpr int kArenas = 5, kScratchArena = 3, kSharedDyArena = 4;

// One cached (shape, pass, algo): reorders in, the convolution, the reorder out; the plan's
// user memories are the caller's in0, in1, out (plain layout).
struct Entry {
  Plan plan;
  std::string impl;
  std::array<memory::desc, 3> prim_md;  // the layouts the primitive works in
  std::array<bool, 3> reordered{};      // whether an argument goes through a copy in prim_md
};

struct Key {
  Conv2dShape s;
  ConvPass pass;
  ConvAlgo algo;
  // backward_data: its copy of dy (in0) goes to kSharedDyArena; backward_weight: dy (in1) is
  // read from there, already in its layout, with no reorder (conv2d_backward_dnnl).
  bool shared_dy = false;
  ConvLayouts layouts;
  // dnnl_bf16 only: x / dy come from the caller already rounded to bf16 (Bf16Activations).
  bool x_bf16 = false, dy_bf16 = false;
  auto operator<=>(const Key&) const = default;
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

std::unique_ptr<Entry> build(const Key& key) {
  const dnnl::engine& eng = dnnl_support::engine();
  const Conv2dShape& s = key.s;
  const auto alg = key.algo == ConvAlgo::dnnl_auto ? dnnl::algorithm::convolution_auto
                                                   : dnnl::algorithm::convolution_direct;
  const memory::dims xd{s.N, s.C, s.H, s.W}, wd{s.K, s.C, s.R, s.S}, yd{s.N, s.K, s.P(), s.Q()};
  const memory::dims strides{s.stride_h, s.stride_w}, pad{s.pad_h, s.pad_w};
  // Each pass's two inputs in the compute type (bf16 for dnnl_bf16), its output in float32.
  const memory::data_type in_t = key.algo == ConvAlgo::dnnl_bf16 ? memory::data_type::bf16 : memory::data_type::f32;
  auto any_in = [in_t](const memory::dims& d) { return memory::desc(d, in_t, tag::any); };
  auto any = [](const memory::dims& d) { return memory::desc(d, memory::data_type::f32, tag::any); };
  auto plain = [](const memory::dims& d, tag t) { return memory::desc(d, memory::data_type::f32, t); };
  auto act = [](ChannelLayout l) { return l == ChannelLayout::nChw16c ? tag::nChw16c : tag::nchw; };
  const tag xt = act(key.layouts.x), yt = act(key.layouts.y);
  // The caller's x and dy: float32, or its bf16 roundings where it passes them.
  auto given = [](const memory::dims& d, tag t, bool bf16) {
    return memory::desc(d, bf16 ? memory::data_type::bf16 : memory::data_type::f32, t);
  };
  const memory::desc user_x = given(xd, xt, key.x_bf16), user_dy = given(yd, yt, key.dy_bf16);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

  // The forward descriptor also serves as the hint the backward descriptors require.
  const dnnl::convolution_forward::primitive_desc fwd(
      {dnnl::prop_kind::forward_training, alg, any_in(xd), any_in(wd), any(yd), strides, pad, pad}, attr, eng);
  auto e = std::make_unique<Entry>();
  Step conv;
  std::array<memory::desc, 3> user_md, prim_md;  // in0, in1, out
  std::array<int, 3> ids;
  memory::desc scratch_md;
  if (key.pass == ConvPass::forward) {
    conv.prim = dnnl::convolution_forward(fwd);
    user_md = {user_x, plain(wd, tag::oihw), plain(yd, yt)};
    prim_md = {fwd.src_desc(), fwd.weights_desc(), fwd.dst_desc()};
    ids = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
    scratch_md = fwd.scratchpad_desc();
    e->impl = fwd.impl_info_str();
  } else if (key.pass == ConvPass::backward_data) {
    const dnnl::convolution_backward_data::primitive_desc pd(
        {alg, any(xd), any_in(wd), any_in(yd), strides, pad, pad}, attr, eng, fwd);
    conv.prim = dnnl::convolution_backward_data(pd);
    user_md = {user_dy, plain(wd, tag::oihw), plain(xd, xt)};
    prim_md = {pd.diff_dst_desc(), pd.weights_desc(), pd.diff_src_desc()};
    ids = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    scratch_md = pd.scratchpad_desc();
    e->impl = pd.impl_info_str();
  } else {
    const dnnl::convolution_backward_weights::primitive_desc pd(
        {alg, any_in(xd), any(wd), any_in(yd), strides, pad, pad}, attr, eng, fwd);
    conv.prim = dnnl::convolution_backward_weights(pd);
    user_md = {user_x, user_dy, plain(wd, tag::oihw)};
    prim_md = {pd.src_desc(), pd.diff_dst_desc(), pd.diff_weights_desc()};
    ids = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS};
    scratch_md = pd.scratchpad_desc();
    e->impl = pd.impl_info_str();
  }

  std::vector<Step> before, after;
  const int dy_slot = key.pass == ConvPass::backward_data ? 0 : key.pass == ConvPass::backward_weight ? 1 : -1;
  e->prim_md = prim_md;
  for (int i = 0; i < 3; ++i) {
    dnnl_memory_t arg = e->plan.add_user(user_md[i]);
    e->reordered[i] = prim_md[i] != user_md[i];
    const bool shared = key.shared_dy && i == dy_slot;
    if (shared && key.pass == ConvPass::backward_weight) {  // the backward_data before it made the copy
      arg = e->plan.add_internal(prim_md[i], kSharedDyArena);
      e->impl += " +dy shared";
    } else if (e->reordered[i]) {  // the primitive wants its own layout: reorder through an arena
      const bool out = i == 2;
      const dnnl_memory_t blocked = e->plan.add_internal(prim_md[i], shared ? kSharedDyArena : i);
      const dnnl::reorder::primitive_desc rpd(eng, out ? prim_md[i] : user_md[i], eng,
                                              out ? user_md[i] : prim_md[i], attr);
      Step r{dnnl::reorder(rpd), {{DNNL_ARG_FROM, out ? blocked : arg}, {DNNL_ARG_TO, out ? arg : blocked}}};
      e->plan.add_scratchpad(r, rpd.scratchpad_desc(), kScratchArena);
      (out ? after : before).push_back(std::move(r));
      e->impl += out ? " +reorder out" : i == 0 ? " +reorder in0" : " +reorder in1";
      arg = blocked;
    }
    conv.args.push_back({ids[i], arg});
  }
  e->plan.add_scratchpad(conv, scratch_md, kScratchArena);
  e->plan.steps = std::move(before);
  e->plan.steps.push_back(std::move(conv));
  for (Step& st : after) e->plan.steps.push_back(std::move(st));
  return e;
}

Entry& lookup(Cache& c, const Key& key) {
  if (key.algo != ConvAlgo::dnnl_direct && key.algo != ConvAlgo::dnnl_auto && key.algo != ConvAlgo::dnnl_bf16)
    throw std::invalid_argument("conv2d_dnnl: algo must be dnnl_direct, dnnl_auto or dnnl_bf16");
  if (!key.s.valid()) throw std::invalid_argument("conv2d_dnnl: invalid shape " + key.s.str());
  auto blocked_ok = [](ChannelLayout l, int64_t channels) {
    return l == ChannelLayout::nchw || channels % kChannelBlock == 0;
  };
  if (!blocked_ok(key.layouts.x, key.s.C) || !blocked_ok(key.layouts.y, key.s.K))
    throw std::invalid_argument("conv2d_dnnl: nChw16c needs channels in multiples of 16, got " + key.s.str());
  auto it = c.entries.find(key);
  if (it == c.entries.end()) it = c.entries.emplace(key, build(key)).first;
  return *it->second;
}

// Runs an entry; the caller holds c.mu.
void run_entry(Cache& c, Entry& e, const void* in0, const void* in1, float* out) {
  e.plan.run(c.arenas, {in0, in1, out}, "conv2d_dnnl");
}

void execute(const Key& key, const void* in0, const void* in1, float* out) {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  run_entry(c, lookup(c, key), in0, in1, out);
}

// The pass's key, taking the caller's bf16 x / dy where its algo computes in bf16.
Key pass_key(const Conv2dShape& s, ConvPass pass, ConvAlgo algo, ConvLayouts layouts, Bf16Activations bf16) {
  const bool reads_bf16 = algo == ConvAlgo::dnnl_bf16;
  return {s, pass, algo, false, layouts, reads_bf16 && bf16.x && pass != ConvPass::backward_data,
          reads_bf16 && bf16.dy && pass != ConvPass::forward};
}

// The buffer the pass reads for x (or dy): the bf16 one when its key takes it.
const void* input(bool bf16_given, const uint16_t* bf16, const float* f32) {
  return bf16_given ? static_cast<const void*>(bf16) : f32;
}

}  // namespace

void conv2d_forward_dnnl(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* w, float* y,
                         ConvLayouts layouts, Bf16Activations bf16) {
  const Key key = pass_key(s, ConvPass::forward, algo, layouts, bf16);
  execute(key, input(key.x_bf16, bf16.x, x), w, y);
}

void conv2d_backward_data_dnnl(ConvAlgo algo, const Conv2dShape& s, const float* dy, const float* w, float* dx,
                               ConvLayouts layouts, Bf16Activations bf16) {
  const Key key = pass_key(s, ConvPass::backward_data, algo, layouts, bf16);
  execute(key, input(key.dy_bf16, bf16.dy, dy), w, dx);
}

void conv2d_backward_weight_dnnl(ConvAlgo algo, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                 ConvLayouts layouts, Bf16Activations bf16) {
  const Key key = pass_key(s, ConvPass::backward_weight, algo, layouts, bf16);
  execute(key, input(key.x_bf16, bf16.x, x), input(key.dy_bf16, bf16.dy, dy), dw);
}

void conv2d_backward_dnnl(ConvAlgo data_algo, ConvAlgo weight_algo, const Conv2dShape& s, const float* x,
                          const float* dy, const float* w, float* dx, float* dw, ConvLayouts layouts,
                          Bf16Activations bf16) {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  Key data = pass_key(s, ConvPass::backward_data, data_algo, layouts, bf16);
  Key weight = pass_key(s, ConvPass::backward_weight, weight_algo, layouts, bf16);
  const Entry &d = lookup(c, data), &wt = lookup(c, weight);
  data.shared_dy = weight.shared_dy = d.reordered[0] && wt.reordered[1] && d.prim_md[0] == wt.prim_md[1];
  run_entry(c, lookup(c, data), input(data.dy_bf16, bf16.dy, dy), w, dx);
  run_entry(c, lookup(c, weight), input(weight.x_bf16, bf16.x, x), input(weight.dy_bf16, bf16.dy, dy), dw);
}

bool conv2d_dnnl_computes_nChw16c(ConvAlgo algo, const Conv2dShape& s) {
  if (s.K % kChannelBlock != 0) return false;
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  return !lookup(c, {s, ConvPass::forward, algo, false, {ChannelLayout::nchw, ChannelLayout::nChw16c}}).reordered[2];
}

std::string conv2d_dnnl_impl(ConvAlgo algo, const Conv2dShape& s, ConvPass pass, ConvLayouts layouts,
                             Bf16Activations bf16) {
  Cache& c = cache();
  std::lock_guard lock(c.mu);
  return lookup(c, pass_key(s, pass, algo, layouts, bf16)).impl;
}

}  // namespace bt::cpu
