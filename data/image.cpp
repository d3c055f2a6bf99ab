#include "data/image.h"

// stb_image compiled into this file only (STB_IMAGE_STATIC: internal linkage, no clash with
// Debian's libstb, which stays linked for stb_image_write), with the decoders of the three
// formats bt reads and none of the others (GIF, TGA, PSD, PIC, PNM, HDR), whose paths hold
// stb_image's known memory-safety bugs (CVE-2023-45661..45667, GIF and TGA). Sides above
// STBI_MAX_DIMENSIONS are rejected while the header is parsed.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS bt::data::kMaxImageSide
#include <stb/stb_image.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "engine/error.h"

namespace bt::data {

namespace {

using Bytes = std::vector<uint8_t>;

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | p[2] << 16 | p[1] << 8 | p[0]; }
uint16_t le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }

// PNG: after the signature, chunks {length, type, data, crc} must run to an IEND chunk.
bool png_complete(const Bytes& b) {
  size_t p = 8;
  while (p + 12 <= b.size()) {
    const size_t len = be32(&b[p]);
    if (len > b.size() - p - 12) return false;
    if (std::equal(&b[p + 4], &b[p + 8], "IEND")) return true;
    p += 12 + len;
  }
  return false;
}

// BMP with a BITMAPINFOHEADER (or later) and no compression (BI_RGB 0, BI_BITFIELDS 3): the
// pixel array at bfOffBits holds |height| rows of ((w·bpp + 31) / 32)·4 bytes.
bool bmp_complete(const Bytes& b) {
  if (b.size() < 34) return false;
  const uint32_t offset = le32(&b[10]), header = le32(&b[14]);
  if (header < 40) return true;  // OS/2 headers: rare, left to stb_image
  const int64_t w = int32_t(le32(&b[18])), h = int32_t(le32(&b[22]));
  const int64_t bpp = le16(&b[28]);
  const uint32_t compression = le32(&b[30]);
  if (compression != 0 && compression != 3) return true;  // RLE: size unknown from the header
  const int64_t stride = (w * bpp + 31) / 32 * 4;
  return int64_t(b.size()) >= int64_t(offset) + stride * (h < 0 ? -h : h);
}

// JPEG Huffman tables (DHT segments, marker FF C4): each table's 16 code-length counts may sum
// to at most 256 symbols. stb_image 2.27 (Debian 12's) does not check this and writes past its
// 257-entry size and 256-entry value arrays (found by fuzz/fuzz_image.cpp).
// Every FF C4 in the file is read as a DHT, a superset of those stb_image parses (in the
// entropy-coded data FF is only followed by 00 or a restart marker), so none escapes. The
// price: a valid JPEG whose APP/EXIF bytes happen to hold FF C4 then counts summing over 256
// is rejected too.
bool jpeg_huffman_tables_valid(const Bytes& b) {
  for (size_t p = 0; p + 4 <= b.size(); ++p) {
    if (b[p] != 0xff || b[p + 1] != 0xc4) continue;
    // As stb_image reads it: tables while the segment has bytes left, even a partial one, and
    // zeros past the end of the file.
    const size_t end = std::min(b.size(), p + 2 + (size_t(b[p + 2]) << 8 | b[p + 3]));
    for (size_t q = p + 4; q < end;) {
      size_t symbols = 0;
      for (size_t i = q + 1; i <= q + 16 && i < b.size(); ++i) symbols += b[i];
      if (symbols > 256) return false;
      q += 17 + symbols;
    }
  }
  return true;
}

bool starts_with(const Bytes& b, std::initializer_list<uint8_t> sig) {
  return b.size() >= sig.size() && std::equal(sig.begin(), sig.end(), b.begin());
}

// Whether stb_image takes the data for a JPEG: the SOI marker, FF D8, after any FF fill bytes.
bool looks_like_jpeg(const Bytes& b) {
  size_t p = 0;
  while (p < b.size() && b[p] == 0xff) ++p;
  return p > 0 && p < b.size() && b[p] == 0xd8;
}

// A JPEG whose Huffman tables stb_image must not see (checked before every stb_image call).
bool corrupt_jpeg_tables(const Bytes& b) { return looks_like_jpeg(b) && !jpeg_huffman_tables_valid(b); }

}  // namespace

std::vector<uint8_t> read_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  BT_CHECK(f != nullptr, "cannot open ", path);
  Bytes out;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.insert(out.end(), buf, buf + got);
  BT_CHECK(!std::ferror(f.get()), "error reading ", path);
  return out;
}

bool read_image_size(const std::vector<uint8_t>& encoded, int& w, int& h) {
  int channels = 0;
  return !encoded.empty() && encoded.size() < (size_t(1) << 31) && !corrupt_jpeg_tables(encoded) &&
         stbi_info_from_memory(encoded.data(), int(encoded.size()), &w, &h, &channels) && w > 0 && h > 0;
}

Image decode_image(const std::vector<uint8_t>& encoded, const std::string& name, int64_t max_pixels) {
  BT_CHECK(!encoded.empty(), "cannot decode ", name, ": empty file");
  BT_CHECK(encoded.size() < (size_t(1) << 31), "cannot decode ", name, ": file too large");
  int w = 0, h = 0, channels = 0;
  BT_CHECK(!corrupt_jpeg_tables(encoded), "cannot decode ", name,
           ": corrupt JPEG Huffman table (more than 256 symbols)");
  // The size from the header before anything is allocated: a few bytes can claim any size.
  // stbi_info tries every format in turn, so its failure reason is the last one's: not shown.
  BT_CHECK(stbi_info_from_memory(encoded.data(), int(encoded.size()), &w, &h, &channels), "cannot decode ",
           name, ": no readable JPEG, PNG or BMP header (or a side over ", kMaxImageSide, ")");
  // stb_image returns a BMP of height 0 as a successful, empty image (a fuzz finding).
  BT_CHECK(w > 0 && h > 0, "cannot decode ", name, ": the header gives no pixels (", w, "x", h, ")");
  BT_CHECK(int64_t(w) * h <= max_pixels, "cannot decode ", name, ": ", w, "x", h, " exceeds the limit of ",
           max_pixels, " pixels");
  // Before decoding too: stb_image grows its buffer to a PNG chunk's declared length, so a
  // 75-byte file claiming a 1 GiB chunk made it allocate 2 GiB (a fuzz finding).
  bool complete = true;
  if (starts_with(encoded, {0x89, 'P', 'N', 'G'})) complete = png_complete(encoded);
  else if (starts_with(encoded, {'B', 'M'})) complete = bmp_complete(encoded);
  BT_CHECK(complete, "cannot decode ", name, ": truncated file");
  std::unique_ptr<uint8_t, void (*)(void*)> px(
      stbi_load_from_memory(encoded.data(), int(encoded.size()), &w, &h, &channels, 3),
      stbi_image_free);
  BT_CHECK(px != nullptr, "cannot decode ", name, ": ", stbi_failure_reason());
  Image img;
  img.w = w;
  img.h = h;
  img.pixels.assign(px.get(), px.get() + size_t(w) * h * 3);
  return img;
}

Image load_image(const std::string& path) { return decode_image(read_file(path), path); }

}  // namespace bt::data
