#pragma once
// Waiting on MPI requests with a deadline: shared by the MPI and NCCL backends.
#ifdef BT_HAVE_MPI
// The C API only: OpenMPI's deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <string>

namespace bt::dist::mpi_detail {

// Starts MPI (once per process) with MPI_THREAD_FUNNELED: only the main thread communicates.
void ensure_initialized();

// Prints "bt: rank r of W: message" to stderr and MPI_Aborts the job.
[[noreturn]] void abort_world(const std::string& message);

// Polls `request` until it completes; after timeout_s, aborts the job naming `what`.
// Spins briefly, then sleeps in growing steps (≤ 1 ms) so a waiting rank leaves the cores
// to the ranks still computing.
void wait(MPI_Request& request, double timeout_s, const std::string& what);

// The message of a timed-out collective.
std::string timeout_message(const std::string& what, double timeout_s);

}  // namespace bt::dist::mpi_detail
#endif
