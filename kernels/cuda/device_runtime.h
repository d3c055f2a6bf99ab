#pragma once
// The host side of the cuda device (device_runtime.cpp, built only with the CUDA backend):
// device discovery, memory, copies. Every CUDA call is checked; failures are thrown as
// simt::Error (like kernel launches, backend.h). Without a usable GPU or driver, every entry
// point throws "no CUDA device (<the runtime's reason>)" — never a crash.
#include <cstddef>
#include <string>

namespace bt::cuda {

// Selects device 0 on first use; throws when there is none.
void require_device();
// Whether require_device() would succeed (never throws).
bool device_available() noexcept;
// The name of device 0 (cudaGetDeviceProperties), after require_device().
std::string device_name();
// cudaMalloc / cudaFree (after require_device()); both checked: cudaFree's error may be an
// earlier kernel's asynchronous fault.
void* device_alloc(std::size_t bytes);
void device_free(void* ptr);
// cudaMemcpy in the direction the flags say (host↔device, device↔device); synchronous.
void device_memcpy(void* dst, bool dst_on_device, const void* src, bool src_on_device, std::size_t bytes);
// Waits for all work on the device and reports a failed kernel.
void device_synchronize();

}  // namespace bt::cuda
