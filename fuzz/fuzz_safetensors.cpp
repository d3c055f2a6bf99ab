// libFuzzer harness of the safetensors reader's checks (engine/serialize/safetensors_layout.h),
// which guard every checkpoint and exported backbone load_safetensors reads: the length field,
// the JSON header, each entry and the layout. Any input must either be rejected with bt::Error
// or give a layout whose every tensor lies inside the input, tiles the data section exactly
// and holds shape x element-size bytes; anything else (or a sanitizer report) is a finding.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/error.h"
#include "engine/serialize/safetensors_layout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace st = bt::safetensors;
  try {
    uint64_t header_len = 0;
    if (size >= 8) std::memcpy(&header_len, data, 8);
    st::check_header_length("fuzz input", size, header_len);
    const std::string text(reinterpret_cast<const char*>(data) + 8, header_len);
    const st::Layout layout = st::parse_header("fuzz input", text, size);
    uint64_t at = 0;
    for (const st::Entry& e : layout.entries) {
      uint64_t bytes = e.file_elem;
      for (int64_t d : e.shape) bytes *= uint64_t(d);  // no overflow: parse_header checked it
      if (e.begin != at || e.end - e.begin != bytes || layout.data_start + e.end > size) std::abort();
      at = e.end;
    }
    if (layout.data_start + at != size) std::abort();
  } catch (const bt::Error&) {
  }
  return 0;
}
