#pragma once
// MoCo's dictionary: a FIFO queue of K keys, (K, D) rows, and its write position, a one-element
// tensor (the method registers both as buffers, so checkpoints and the data-parallel broadcast
// carry them). Each step's keys overwrite the oldest rows, from the write position on, wrapping
// around to row 0 (He et al. 2020, Algorithm 1: enqueue the keys, dequeue the oldest).
#include "engine/rng.h"
#include "engine/tensor.h"

namespace bt::methods {

// K random unit vectors of dimension D (normalised Gaussian rows, as MoCo initialises its
// queue), float32 on the cpu.
Tensor random_unit_rows(int64_t K, int64_t D, Rng& rng);

// Writes keys (M, D), M ≤ K, into queue rows ptr, ptr+1, … (mod K) and advances ptr by M
// (mod K). In place, outside autograd; any device.
void enqueue_keys_(const Tensor& queue, const Tensor& ptr, const Tensor& keys);

}  // namespace bt::methods
