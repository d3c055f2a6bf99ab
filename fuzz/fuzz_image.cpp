// libFuzzer harness of the image decoder path (data/image.h): arbitrary bytes through
// read_image_size and decode_image, then to_float. Any input must either decode to a
// consistent image or throw bt::Error; a crash, a sanitizer report or an inconsistency (the
// pixel count, or the header's size differing from the decoded one) is a finding.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "data/image.h"
#include "data/transforms.h"
#include "engine/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  int w = 0, h = 0;
  const bool header = bt::data::read_image_size(bytes, w, h);
  try {
    // 64 K pixels: the work per input stays small (no decoder path needs a bigger image); the
    // cap check is the same code as the default's.
    const bt::data::Image img = bt::data::decode_image(bytes, "fuzz input", int64_t(1) << 16);
    if (!header || img.w != w || img.h != h || img.pixels.size() != size_t(img.w) * img.h * 3) std::abort();
    const bt::data::FloatImage f = bt::data::to_float(img);
    if (f.data.size() != img.pixels.size()) std::abort();
  } catch (const bt::Error&) {
  }
  return 0;
}
