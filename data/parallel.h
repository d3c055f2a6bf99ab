#pragma once
// parallel_for over [0, n) on std::threads, for the data pipeline's own parallel work (decoding
// a folder at scan time), kept apart from the OpenMP pool the training kernels use.
#include <cstdint>
#include <functional>

namespace bt::data {

// The number of threads to use when a caller asks for 0 ("all cores").
int resolve_threads(int threads);

// Calls fn(i) for every i in [0, n), handing out chunks of `grain` indices to `threads`
// workers (0: all cores). The first exception thrown by fn is rethrown here after all workers
// stop; fn must be safe to call concurrently for distinct i.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t i)>& fn,
                  int64_t grain = 16);

}  // namespace bt::data
