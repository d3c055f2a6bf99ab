// cpu_peak: the machine's measured fp32 FMA peak, one thread and all OpenMP threads, with the
// widest vector FMA the CPU runs (AVX-512 when present, else AVX2). It is the roofline that
// bench/compare_torch.sh divides each side's achieved GFLOP/s by.
//
// Each thread runs kChains independent FMA chains on vector registers (enough to cover the FMA
// latency × the number of FMA ports), so the loop is bound by FMA throughput alone:
// GFLOP/s = iterations · kChains · lanes · 2 / seconds.
#include <immintrin.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace {

constexpr int kChains = 12;

// Returns a value depending on every chain, so the compiler cannot drop the loop.
__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm256_set1_ps(float(c));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  __m256 s = acc[0];
  for (int c = 1; c < kChains; ++c) s = _mm256_add_ps(s, acc[c]);
  return _mm256_cvtss_f32(s);
}

__attribute__((target("avx512f"))) float fma_loop_avx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(float(c));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  for (int c = 1; c < kChains; ++c) acc[0] = _mm512_add_ps(acc[0], acc[c]);
  return _mm512_cvtss_f32(acc[0]);
}

// GFLOP/s of `threads` threads each running the loop; the best of `repeats` runs.
double measure(bool avx512, int threads, int64_t iterations, int repeats) {
  const int lanes = avx512 ? 16 : 8;
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    float sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += avx512 ? fma_loop_avx512(iterations) : fma_loop_avx2(iterations);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (sink == 42.0f) std::puts("");  // keeps `sink` observable
    best = std::max(best, double(threads) * double(iterations) * kChains * lanes * 2 / s / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measures the CPU's fp32 FMA peak (GFLOP/s), one thread and all threads"};
  int64_t iterations = 50'000'000;
  int repeats = 5;
  bool json = false;
  app.add_option("--iterations", iterations, "FMA loop iterations per thread and run")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "runs per figure (the best is reported)")->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "print one JSON object instead of text");
  CLI11_PARSE(app, argc, argv);

  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int threads = omp_get_max_threads();
  const double one = measure(avx512, 1, iterations, repeats);
  const double all = measure(avx512, threads, iterations, repeats);
  if (json) {
    std::printf("%s\n", nlohmann::json{{"isa", avx512 ? "avx512" : "avx2"},
                                       {"gflops_1_thread", one},
                                       {"threads", threads},
                                       {"gflops_all_threads", all}}
                            .dump()
                            .c_str());
  } else {
    std::printf("fp32 FMA peak (%s): %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads\n",
                avx512 ? "AVX-512" : "AVX2", one, all, threads);
  }
  return 0;
}
