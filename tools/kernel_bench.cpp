// kernel_bench: every kernel case of the registry (kernels/cases), each fast version checked
// against the reference (max error, within tolerance?) and timed (median ms after warm-up,
// GFLOP/s, GB/s, heap allocations per run), as a table and optionally as JSON. Then, per
// group of cases (e.g. the conv layers of a network for one pass), the FLOP-weighted GFLOP/s
// of each version, of the fastest version per case ("best") and of the version production
// code picks ("preferred"), as a fraction of the sgemm GFLOP/s measured in the same run.
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "kernels/cases/alloc_count.h"
#include "kernels/cases/check.h"
#include "kernels/cases/families.h"
#include "engine/process_env.h"
#include "kernels/cpu/blas_core.h"

using namespace bt::cases;
using json = nlohmann::json;

namespace {

// The 1-minute load average: these machines are shared, and timings mean little under load.
double load_average() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

struct Options {
  std::vector<std::string> families;
  std::string match;
  bool quick = false;
  int repeats = 5, warmup = 1;
  bool keep_blas_core = false;
  bool cpu_clock = false;  // time = CPU seconds of all threads, not wall seconds
  std::string json_path;  // "-" = stdout
  double load_start = -1, load_end = -1;
};

struct Row {
  std::string family, name, group, version, note, check_note;
  double count = 1, flops = 0, bytes = 0;
  bool ok = true, preferred = false;
  double max_abs_err = 0, tol_ratio = 0, ms = 0, allocs_per_run = 0;
  std::string failure;
};

// Wall seconds, or CPU seconds used by all threads of the process (--clock cpu).
double now(bool cpu_clock) {
  if (!cpu_clock) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Median over `repeats` samples; a sample averages enough runs to last ≥ 2 ms.
double time_ms(const KernelCase& c, const std::string& version, CaseData& d, const Options& opt,
               double* allocs_per_run) {
  double t0 = now(opt.cpu_clock);
  for (int i = 0; i < std::max(1, opt.warmup); ++i) c.run(version, d);
  const double first = (now(opt.cpu_clock) - t0) / std::max(1, opt.warmup);
  const int iters = std::clamp(int(2e-3 / std::max(first, 1e-9)), 1, 10000);
  std::vector<double> samples;
  samples.reserve(opt.repeats);
  AllocCounter counter;
  for (int r = 0; r < opt.repeats; ++r) {
    t0 = now(opt.cpu_clock);
    for (int i = 0; i < iters; ++i) c.run(version, d);
    samples.push_back((now(opt.cpu_clock) - t0) / iters);
  }
  *allocs_per_run = double(counter.stats().count) / (double(opt.repeats) * iters);
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2] * 1e3;
}

std::vector<Row> bench_case(const KernelCase& c, const Options& opt) {
  const KernelCase checked = c.check_variant ? c.check_variant() : c;
  const CaseData ref = run_version(checked, kReference);
  CaseData data = c.make_inputs();
  std::vector<Row> rows;
  for (const std::string& v : c.versions) {
    Row r;
    r.family = c.family, r.name = c.name, r.group = c.group, r.version = v;
    r.note = c.describe ? c.describe(v) : "";
    r.check_note = c.check_note, r.count = c.count, r.flops = c.flops, r.bytes = c.bytes;
    r.preferred = v == c.preferred;
    const CheckResult chk = check_version(checked, v, ref);
    r.ok = chk.ok;
    r.max_abs_err = chk.max_abs_err;
    r.tol_ratio = chk.max_tol_ratio;
    r.failure = chk.message;
    r.ms = time_ms(c, v, data, opt, &r.allocs_per_run);
    rows.push_back(std::move(r));
  }
  return rows;
}

void print_row(FILE* out, const Row& r) {
  std::fprintf(out, "    %-12s %s %9.2e %5.2f %4s %10.3f %8.1f %8.1f %6.1f  %s\n", r.version.c_str(), r.preferred ? "*" : " ",
              r.max_abs_err, r.tol_ratio, r.ok ? "ok" : "FAIL", r.ms, r.flops / r.ms * 1e-6, r.bytes / r.ms * 1e-6,
              r.allocs_per_run, r.note.c_str());
  if (!r.ok) std::fprintf(out, "      %s\n", r.failure.c_str());
}

struct Summary {
  std::string group, version;
  double flops = 0, ms = 0;
  double gflops() const { return flops / ms * 1e-6; }
};

// Per group (and per "net" of a "net/pass" group): Σ count·flops / Σ count·ms for each version,
// for the fastest version of each case ("best") and for the preferred one ("preferred").
std::vector<Summary> summarise(const std::vector<Row>& rows) {
  std::map<std::pair<std::string, std::string>, Summary> acc;
  struct Best {
    double flops, count, ms;
  };
  std::map<std::string, std::map<std::string, Best>> best;  // group → case → fastest version
  auto add = [&](const std::string& g, const std::string& v, double flops, double ms) {
    Summary& s = acc[{g, v}];
    s.group = g, s.version = v, s.flops += flops, s.ms += ms;
  };
  for (const Row& r : rows) {
    if (r.group.empty()) continue;
    std::vector<std::string> groups{r.group};
    if (const size_t slash = r.group.find('/'); slash != std::string::npos) groups.push_back(r.group.substr(0, slash));
    for (const std::string& g : groups) {
      add(g, r.version, r.count * r.flops, r.count * r.ms);
      if (r.preferred) add(g, "preferred", r.count * r.flops, r.count * r.ms);
      auto it = best[g].try_emplace(r.name, Best{r.flops, r.count, r.ms}).first;
      it->second.ms = std::min(it->second.ms, r.ms);
    }
  }
  for (const auto& [g, cases] : best)
    for (const auto& [name, b] : cases) add(g, "best", b.count * b.flops, b.count * b.ms);
  std::vector<Summary> out;
  for (const auto& [key, s] : acc) out.push_back(s);
  return out;
}

json to_json(const std::vector<Row>& rows, const std::vector<Summary>& sums, double sgemm, const Options& opt) {
  json j;
  j["threads"] = omp_get_max_threads();
  j["quick"] = opt.quick;
  j["sgemm_gflops"] = sgemm;
  j["openblas_core"] = bt::cpu::blas_core_name();
  j["load_average"] = {opt.load_start, opt.load_end};
  j["clock"] = opt.cpu_clock ? "cpu" : "wall";
  for (const Row& r : rows)
    j["cases"].push_back({{"family", r.family}, {"case", r.name}, {"group", r.group}, {"count", r.count},
                          {"version", r.version}, {"preferred", r.preferred}, {"ok", r.ok},
                          {"max_abs_err", r.max_abs_err}, {"tol_ratio", r.tol_ratio}, {"check", r.check_note},
                          {"ms", r.ms}, {"gflops", r.flops / r.ms * 1e-6}, {"gbps", r.bytes / r.ms * 1e-6},
                          {"allocs_per_run", r.allocs_per_run}, {"impl", r.note}});
  for (const Summary& s : sums)
    j["summary"].push_back({{"group", s.group}, {"version", s.version}, {"ms", s.ms}, {"gflops", s.gflops()},
                            {"fraction_of_sgemm", sgemm > 0 ? s.gflops() / sgemm : 0.0}});
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kernel_bench: every kernel case against its reference, timed"};
  Options opt;
  app.add_option("--filter", opt.families, "families to run (default: all)")->delimiter(',');
  app.add_option("--match", opt.match, "only cases whose name contains this");
  app.add_flag("--quick", opt.quick, "small sizes and 2 repeats (CI)");
  app.add_option("--repeats", opt.repeats, "timed samples per version (median reported)");
  app.add_option("--warmup", opt.warmup, "untimed runs first");
  app.add_option("--json", opt.json_path, "also write JSON to FILE ('-' or no value: stdout)")->expected(0, 1)->default_str("-");
  std::string clock = "wall";
  app.add_option("--clock", clock, "wall: elapsed time; cpu: CPU time of all threads (on a loaded, shared "
                                   "machine; run with OMP_WAIT_POLICY=passive)")
      ->check(CLI::IsMember({"wall", "cpu"}));
  app.add_flag("--keep-blas-core", opt.keep_blas_core, "do not force OpenBLAS's AVX-512 kernels when it detects none");
  bool list_families = false;
  app.add_flag("--list-families", list_families, "print the kernel families (--filter's names) and exit");
  CLI11_PARSE(app, argc, argv);
  if (list_families) {
    for (const std::string& f : family_names()) std::printf("%s\n", f.c_str());
    return 0;
  }
  opt.cpu_clock = clock == "cpu";
  bt::prepare_process(argv, {.select_blas_core = !opt.keep_blas_core});  // engine/process_env.h
  opt.load_start = load_average();
  if (opt.quick && app.count("--repeats") == 0) opt.repeats = 2;
  const bool json_out = app.count("--json") > 0;
  if (json_out && opt.json_path.empty()) opt.json_path = "-";
  FILE* out = json_out && opt.json_path == "-" ? stderr : stdout;  // stdout then carries only the JSON

  std::vector<KernelCase> cases;
  try {
    cases = collect_cases({Suite::bench, opt.quick}, opt.families);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kernel_bench: %s\n", e.what());
    return 2;
  }
  std::fprintf(out, "kernel_bench: %d OpenMP threads, OpenBLAS core %s, load average %.2f%s\n", omp_get_max_threads(),
               bt::cpu::blas_core_name(), opt.load_start, opt.quick ? ", quick" : "");
  std::fprintf(out, "* = the version production code picks; tol = max error / tolerance; allocs = heap allocations per run\n");
  if (opt.cpu_clock)
    std::fprintf(out, "clock: CPU time of all threads, so ms are CPU-ms and GFLOP/s are per CPU-second (per core)\n");
  std::fprintf(out, "    %-12s   %9s %5s %4s %10s %8s %8s %6s  %s\n", "version", "max|err|", "tol", "ok", "ms",
               "GFLOP/s", "GB/s", "allocs", "implementation");
  std::vector<Row> rows;
  bool all_ok = true;
  for (const KernelCase& c : cases) {
    if (!opt.match.empty() && c.name.find(opt.match) == std::string::npos) continue;
    std::fprintf(out, "%s %s%s%s\n", c.family.c_str(), c.name.c_str(), c.check_note.empty() ? "" : "  # ",
                 c.check_note.c_str());
    for (Row& r : bench_case(c, opt)) {
      print_row(out, r);
      all_ok &= r.ok;
      rows.push_back(std::move(r));
    }
    std::fflush(out);
  }

  opt.load_end = load_average();
  double sgemm = 0;
  for (const Row& r : rows)
    if (r.group == kSgemmPeakGroup) sgemm = std::max(sgemm, r.flops / r.ms * 1e-6);
  const std::vector<Summary> sums = summarise(rows);
  std::fprintf(out, "\nFLOP-weighted GFLOP/s per group (layers weighted by their count in the network)%s\n",
               sgemm > 0 ? " and as a fraction of sgemm's" : "");
  for (const Summary& s : sums) {
    if (s.group == kSgemmPeakGroup) continue;
    std::fprintf(out, "  %-24s %-12s %10.2f ms %8.1f GFLOP/s", s.group.c_str(), s.version.c_str(), s.ms, s.gflops());
    if (sgemm > 0) std::fprintf(out, " %6.1f %%", 100 * s.gflops() / sgemm);
    std::fprintf(out, "\n");
  }
  if (sgemm > 0) std::fprintf(out, "  sgemm (group %s): %.1f GFLOP/s\n", kSgemmPeakGroup, sgemm);
  std::fprintf(out, "load average at the end: %.2f\n", opt.load_end);

  if (json_out) {
    const std::string text = to_json(rows, sums, sgemm, opt).dump(1);
    if (opt.json_path == "-")
      std::printf("%s\n", text.c_str());
    else
      std::ofstream(opt.json_path) << text << "\n";
  }
  return all_ok ? 0 : 1;
}
