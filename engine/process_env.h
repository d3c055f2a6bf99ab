#pragma once
// Settings that the OpenBLAS and OpenMP runtimes read once, when they load (before main()), so
// a program sets them in its environment and re-executes itself, once, with the same
// arguments. Each program calls prepare_process(argv) at the top of main().
//  - OPENBLAS_CORETYPE, when OpenBLAS failed to detect the CPU (kernels/cpu/blas_core.h).
//  - OMP_WAIT_POLICY=passive, unless set: threads that reach a barrier first sleep instead of
//    spinning. A training step runs thousands of short parallel regions; with spinning waits,
//    a step beside another busy process ran 2–8× slower than its fair share of the CPU
//    (a spinning thread burns the core its preempted partner needs), passive waits keep it
//    near that share (README "Speed"). The unloaded cost is a futex wake per region.
namespace bt {

struct ProcessEnvOptions {
  bool select_blas_core = true;  // kernel_bench --keep-blas-core turns it off
};

// Returns normally when nothing needs to change (or re-exec failed: the program then runs on
// with the runtimes' defaults).
void prepare_process(char** argv, ProcessEnvOptions options = {});

}  // namespace bt
