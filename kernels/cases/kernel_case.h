#pragma once
// The kernel-case registry (docs/design.md §7, after ggml's test-backend-ops): every kernel family
// lists its cases once, and the same list drives the tests (each fast version against the
// reference, check.h) and tools/kernel_bench (error, time, GFLOP/s, GB/s).
//
// A family is a name and a function from suite options to cases: Suite::test gives small, odd
// shapes (each checked against the reference by the family's test), Suite::bench production
// shapes (with check_variant where the reference is too slow). To add one: write
// kernels/cases/<family>_cases.cpp defining `Family <family>_family()`, declare it in
// families.h and list it in registry.cpp; tests/test_kernel_families.cpp then checks every
// version of its test cases (a loop over collect_cases({Suite::test}, {"<family>"}) calling
// check_version(), as tests/test_conv_kernels.cpp does for conv2d alone), and kernel_bench runs
// it with no change (also add the family's name to the test's list of expected families).
// CUDA kernels become versions through kernels/cases/cuda_buffers.h. A family living in a
// library bt_kernel_cases cannot depend on calls register_family() before collecting instead.
// conv2d_cases.cpp is a complete example.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "kernels/cases/buffer.h"

namespace bt::cases {

// The buffers of one run: inputs are read; outputs hold their initial contents when made
// (NaN for kernels that overwrite, so an element never written is caught) and the results after.
struct CaseData {
  std::vector<Buffer> inputs;
  std::vector<Buffer> outputs;
};

struct KernelCase {
  std::string family;                 // "conv2d", "matmul", ...
  std::string name;                   // unique within the family
  std::vector<std::string> versions;  // the fast versions; "reference" is implicit
  std::string preferred;              // the version production code dispatches to ("" = none)
  std::string group;                  // kernel_bench summarises a group's cases ("net/pass" also counts in "net")
  double count = 1;                   // times the case occurs in its group (identical layers)
  double flops = 0, bytes = 0;        // of one run (bytes: inputs read + outputs written once)
  double atol = 0, rtol = 0;          // an output passes when |got − ref| ≤ atol + rtol·|ref|
  std::map<std::string, double> tol_scale;  // × atol and rtol for versions with a looser contract

  std::function<CaseData()> make_inputs;                            // deterministic
  std::function<void(const std::string& version, CaseData&)> run;  // any version or "reference"

  // Optional: when the reference is too slow at this size, errors are measured on this smaller
  // case instead (e.g. the same layer at batch 16); check_note says so ("checked at N=16").
  std::function<KernelCase()> check_variant;
  std::string check_note;

  // Optional: how a version runs at this case, for the benchmark table (e.g. the oneDNN
  // implementation picked: "jit_wino_4x3:avx512_core").
  std::function<std::string(const std::string& version)> describe;
};

inline constexpr const char* kReference = "reference";

enum class Suite { test, bench };
struct SuiteOptions {
  Suite suite = Suite::test;
  bool quick = false;  // fewer / smaller cases (CI)
};

struct Family {
  std::string name;
  std::function<std::vector<KernelCase>(const SuiteOptions&)> cases;
};

// Adds a family to the registry (for families outside bt_kernel_cases).
void register_family(Family family);
// The names of the built-in and registered families.
std::vector<std::string> family_names();
// The cases of the named families (every family when `families` is empty), in registry order.
// Throws std::invalid_argument for an unknown family name.
std::vector<KernelCase> collect_cases(const SuiteOptions& options, const std::vector<std::string>& families = {});

}  // namespace bt::cases
