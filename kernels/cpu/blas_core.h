#pragma once
// OpenBLAS 0.3.21 (Debian 12) does not recognise some CPUs (AVX-512 under a virtual "Intel
// Xeon Processor" model, say) and falls back to its generic Prescott kernels, about 4× slower
// than its SkylakeX (AVX-512) kernels there. The core is chosen once, when the library loads,
// from OPENBLAS_CORETYPE — before main() runs — so engine/process_env.h sets the variable and
// re-executes the program when this asks for it.
namespace bt::cpu {

// The OPENBLAS_CORETYPE to set: the best core the CPU supports when OpenBLAS's detection
// failed and the variable is unset; nullptr when nothing needs to change.
const char* preferred_blas_core();

// The OpenBLAS core in use, e.g. "SkylakeX".
const char* blas_core_name();

}  // namespace bt::cpu
