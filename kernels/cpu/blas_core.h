#pragma once
// OpenBLAS 0.3.21 (Debian 12) does not recognise these machines' CPUs (AVX-512 under a
// virtual "Intel Xeon Processor" model) and falls back to its generic Prescott kernels, about
// 4× slower than its SkylakeX (AVX-512) kernels here. The core is chosen once, when the library
// loads, from OPENBLAS_CORETYPE — before main() runs. So each program calls this first: when
// detection failed and the variable is unset, it sets the variable to the best core the CPU
// supports and re-executes itself (same arguments), once.
namespace bt::cpu {

// Call at the top of main(). Returns normally when nothing needs to change (or re-exec failed,
// in which case the program continues on the generic kernels).
void select_blas_core(char** argv);

// The OpenBLAS core in use, e.g. "SkylakeX".
const char* blas_core_name();

}  // namespace bt::cpu
