#pragma once
// Image: an 8-bit RGB picture in HWC order, and decoding of encoded files (JPEG, PNG, BMP via
// stb_image) into it. Grayscale is replicated to RGB and alpha dropped, as PIL's convert("RGB").
#include <cstdint>
#include <string>
#include <vector>

namespace bt::data {

struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> pixels;  // (h, w, 3) row-major, RGB
  size_t bytes() const { return pixels.size(); }
};

// The whole file; throws bt::Error naming `path` if it cannot be read.
std::vector<uint8_t> read_file(const std::string& path);

// Decodes `encoded` to RGB. Throws bt::Error naming `name` when stb_image rejects the data or
// the file is truncated. stb_image rejects a cut-off JPEG itself (it requires the marker that
// ends the scan) but reads missing BMP bytes as zeros and accepts a PNG cut inside its final
// CRC, so we check that a PNG holds its whole IEND chunk and that an uncompressed BMP holds all
// the pixel rows its header declares.
Image decode_image(const std::vector<uint8_t>& encoded, const std::string& name);

// read_file + decode_image.
Image load_image(const std::string& path);

}  // namespace bt::data
