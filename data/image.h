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

// Decoding limits, checked from the header before any pixel memory is allocated: a side (also
// stb_image's STBI_MAX_DIMENSIONS), and a pixel count, PIL's Image.MAX_IMAGE_PIXELS (its
// decompression-bomb threshold, ~89.5 MP: 256 MiB of RGB).
constexpr int kMaxImageSide = 1 << 16;
constexpr int64_t kMaxImagePixels = int64_t(1024) * 1024 * 1024 / 4 / 3;

// The width and height from the header, without decoding; false when stb_image cannot read the
// header (or the data is empty or >= 2 GiB).
bool read_image_size(const std::vector<uint8_t>& encoded, int& w, int& h);

// Decodes `encoded` to RGB, rejecting images over max_pixels (from the header). Throws bt::Error naming `name` when stb_image rejects the data or
// the file is truncated. stb_image rejects a cut-off JPEG itself (it requires the marker that
// ends the scan) but reads missing BMP bytes as zeros and accepts a PNG cut inside its final
// CRC, so we check (before decoding) that a PNG's chunks all fit the file up to its IEND chunk
// and that an uncompressed BMP holds all the pixel rows its header declares.
// A lower max_pixels bounds the work per input (the fuzz harness: fuzz/fuzz_image.cpp).
Image decode_image(const std::vector<uint8_t>& encoded, const std::string& name,
                   int64_t max_pixels = kMaxImagePixels);

// read_file + decode_image.
Image load_image(const std::string& path);

}  // namespace bt::data
