#pragma once
// How a tensor's elements lie in its storage.
//   strided  the shape and strides (every tensor but the ones below)
//   nChw16c  a dense (N, C, H, W) CPU tensor, C a multiple of 16, in oneDNN's blocked layout:
//            element (n, c, h, w) at ((n·C/16 + c/16)·H·W + h·W + w)·16 + c mod 16
// conv2d writes nChw16c where oneDNN computes in it, and batch_norm(_relu), relu, add_relu,
// add and global_avg_pool2d read it, so a ResNet's activations stay blocked from its first
// convolution to its pooling instead of being reordered around every layer (docs/design.md §3).
// Everything else sees an nChw16c tensor through contiguous(), which copies it into NCHW.
// Gradients take the layout of the tensor they belong to (the autograd walk converts them).
#include <cstdint>

namespace bt {

enum class Layout : uint8_t { strided, nChw16c };

inline const char* layout_name(Layout l) { return l == Layout::strided ? "strided" : "nChw16c"; }

// Whether conv2d may write nChw16c (on by default; step_bench --layout nchw turns it off to
// measure what it saves). Process-wide; set it before building the model's first step.
void set_blocked_activations(bool on);
bool blocked_activations();

}  // namespace bt
