// safetensors: round trips, the on-disk layout, reading I64, each malformed-file error, and
// atomic writes that leave nothing behind on failure. Files live in a fresh temp directory.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"
#include "engine/serialize/safetensors.h"

using namespace bt;
namespace fs = std::filesystem;

using bt::testing::TempDir;

namespace {


void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

// A safetensors file with the given header text and data section; header_len overrides N.
void write_raw(const std::string& path, const std::string& header, const std::string& data,
               int64_t header_len = -1) {
  write_bytes(path, u64_le(header_len < 0 ? header.size() : uint64_t(header_len)) + header + data);
}

}  // namespace

TEST_CASE("safetensors round trip: f32, f64, scalar, empty, strided, metadata") {
  TempDir dir;
  const std::string path = dir / "weights.safetensors";
  const Tensor a = Tensor::from_vector(std::vector<double>{1, -2.5, 3, 4, 5e-8, 6e30}, {2, 3});
  const Tensor b = Tensor::from_vector(std::vector<double>{0.1, 0.2, 1e-300, -7}, {4}, DType::f64);
  const Tensor scalar = Tensor::full({}, 12345, DType::f64);
  const Tensor empty = Tensor::zeros({0, 3});
  const Tensor strided = a.t();  // (3, 2), not contiguous: written as its logical values
  const StringMap metadata{{"format", "pt"}, {"step", "12"}};
  save_safetensors(path, {{"conv1.weight", a}, {"fc.bias", b}, {"bn.num_batches_tracked", scalar},
                          {"empty", empty}, {"at", strided}},
                   metadata);

  const SafetensorsContents in = load_safetensors(path);
  REQUIRE(in.metadata == metadata);
  REQUIRE(in.tensors.size() == 5);
  const auto check = [&](const std::string& name, const Tensor& want) {
    INFO(name);
    const Tensor& got = in.tensors.at(name);
    REQUIRE(got.dtype() == want.dtype());
    REQUIRE(got.shape() == want.shape());
    REQUIRE(got.device() == Device::cpu);
    REQUIRE(got.to_vector() == want.to_vector());
  };
  check("conv1.weight", a);
  check("fc.bias", b);
  check("bn.num_batches_tracked", scalar);
  check("empty", empty);
  check("at", strided.contiguous());
  REQUIRE(dir.entries() == 1);  // no temporary file left behind

  // Saving again replaces the file.
  save_safetensors(path, {{"x", Tensor::ones({1})}});
  const SafetensorsContents again = load_safetensors(path);
  REQUIRE(again.tensors.size() == 1);
  REQUIRE(again.metadata.empty());
}

TEST_CASE("safetensors layout: 8-byte length, space-padded JSON, packed sorted data") {
  TempDir dir;
  const std::string path = dir / "layout.safetensors";
  save_safetensors(path, {{"b", Tensor::full({2}, 1.5)}, {"a", Tensor::full({1}, 2.0, DType::f64)}},
                   {{"k", "v"}});
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  REQUIRE(n % 8 == 0);
  REQUIRE(bytes.size() == 8 + n + 8 + 2 * 4);  // "a": one f64, then "b": two f32
  const std::string header = bytes.substr(8, n);
  REQUIRE(header.front() == '{');
  REQUIRE(header.find_last_not_of(' ') == header.rfind('}'));
  CHECK(header.find(R"("a":{"data_offsets":[0,8],"dtype":"F64","shape":[1]})") != std::string::npos);
  CHECK(header.find(R"("b":{"data_offsets":[8,16],"dtype":"F32","shape":[2]})") != std::string::npos);
  CHECK(header.find(R"("__metadata__":{"k":"v"})") != std::string::npos);
  double a = 0;
  std::memcpy(&a, bytes.data() + 8 + n, 8);
  CHECK(a == 2.0);
}

TEST_CASE("safetensors reads I64 (PyTorch's num_batches_tracked) as float64") {
  TempDir dir;
  const std::string path = dir / "i64.safetensors";
  std::string data(24, '\0');
  const int64_t values[3] = {0, 5, -7};
  std::memcpy(data.data(), values, 24);
  write_raw(path, R"({"n":{"dtype":"I64","shape":[3],"data_offsets":[0,24]}})", data);
  const Tensor t = load_safetensors(path).tensors.at("n");
  REQUIRE(t.dtype() == DType::f64);
  REQUIRE(t.to_vector() == std::vector<double>{0, 5, -7});
}

TEST_CASE("safetensors load errors name the file and the problem") {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  using Catch::Contains;

  SECTION("missing file") {
    const std::string missing = dir / "missing.safetensors";
    REQUIRE_THROWS_WITH(load_safetensors(missing),
                        Contains(missing) && Contains("cannot open") &&
                            Contains("No such file"));
  }
  SECTION("shorter than 8 bytes") {
    write_bytes(path, "abcde");
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains(path) && Contains("5 bytes, shorter than the 8-byte header"));
  }
  SECTION("header length beyond the file") {
    write_raw(path, "{}      ", "", /*header_len=*/1000);
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains(path) && Contains("header length 1000 exceeds"));
  }
  SECTION("invalid JSON") {
    write_raw(path, "{not jso", "");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("invalid JSON header"));
  }
  SECTION("a number out of range in the JSON (a fuzz finding: it escaped as a non-parse exception)") {
    write_raw(path, R"({"__metadata__":{"a":"b"},"x":680908399640575E999999})", "");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("invalid JSON header") &&
                                                    Contains("number overflow"));
  }
  SECTION("header not an object") {
    write_raw(path, "[1, 2]  ", "");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("not an object"));
  }
  SECTION("unknown dtype") {
    write_raw(path, R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", "abcd");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'w'") &&
                                                    Contains("unsupported dtype 'BF16'"));
  }
  SECTION("malformed entry") {
    write_raw(path, R"({"w":{"dtype":"F32","shape":[2]}})", "");
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains(path) && Contains("tensor 'w'") && Contains("malformed entry"));
  }
  SECTION("offsets out of range: a truncated file") {
    save_safetensors(path, {{"w", Tensor::ones({4, 4})}});
    const std::string bytes = read_bytes(path);
    write_bytes(path, bytes.substr(0, bytes.size() - 10));
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'w'") &&
                                                    Contains("data_offsets [0, 64]") &&
                                                    Contains("truncated"));
  }
  SECTION("offsets inconsistent with shape × dtype") {
    write_raw(path, R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcdefgh");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'w'") &&
                                                    Contains("hold 4 bytes") &&
                                                    Contains("needs 8"));
  }
  SECTION("metadata values must be strings") {
    write_raw(path, R"({"__metadata__":{"step":12}})", "");
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains(path) && Contains("__metadata__ value of 'step'"));
  }
}

TEST_CASE("a failed save throws naming the path and leaves no file behind") {
  TempDir dir;
  // Into a directory that does not exist: the temporary file cannot even be created.
  const std::string nowhere = (dir.path / "no_such_dir" / "w.safetensors").string();  // not created
  REQUIRE_THROWS_WITH(save_safetensors(nowhere, {{"w", Tensor::ones({2})}}),
                      Catch::Contains(nowhere) && Catch::Contains("No such file"));
  REQUIRE(dir.entries() == 0);

  // Onto an existing directory: the temporary file is written, the rename fails, and the
  // temporary file is removed.
  const std::string target = dir / "a_directory";
  fs::create_directory(target);
  REQUIRE_THROWS_WITH(save_safetensors(target, {{"w", Tensor::ones({2})}}),
                      Catch::Contains(target) && Catch::Contains("rename failed"));
  REQUIRE(dir.entries() == 1);
  REQUIRE(fs::is_directory(target));
}

TEST_CASE("safetensors enforces the format's rules, naming the one broken") {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  using Catch::Contains;
  const auto entry = [](const std::string& name, const std::string& shape, int begin, int end) {
    return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(begin) + "," + std::to_string(end) + "]}";
  };

  SECTION("header length over the format's 100 MB limit") {
    write_raw(path, "{}      ", "", /*header_len=*/100'000'001);
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Contains(path) && Contains("header length 100000001 exceeds the format's limit of 100000000"));
  }
  SECTION("the header must start with '{'") {
    write_raw(path, "  {}    ", "");
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("starting at '{'"));
  }
  SECTION("a gap between tensors") {
    write_raw(path, "{" + entry("a", "[1]", 0, 4) + "," + entry("b", "[1]", 8, 12) + "}", std::string(12, 'x'));
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'b' begins at data offset 8") &&
                                                    Contains("from 4, belong to no tensor") && Contains("contiguous"));
  }
  SECTION("overlapping tensors") {
    write_raw(path, "{" + entry("a", "[2]", 0, 8) + "," + entry("b", "[1]", 4, 8) + "}", std::string(8, 'x'));
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'b' begins at data offset 4") &&
                                                    Contains("overlaps the previous tensor, which ends at 8"));
  }
  SECTION("the first tensor not at offset 0") {
    write_raw(path, "{" + entry("a", "[1]", 4, 8) + "}", std::string(8, 'x'));
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'a' begins at data offset 4") &&
                                                    Contains("from 0, belong to no tensor"));
  }
  SECTION("bytes after the last tensor: the file length must be exact") {
    write_raw(path, "{" + entry("a", "[1]", 0, 4) + "}", std::string(6, 'x'));
    REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("end at data offset 4") &&
                                                    Contains("holds 6 bytes (the file length must be exact)"));
  }
  SECTION("a shape whose byte size or element count overflows 64 bits") {
    for (const std::string shape : {"[4294967296,4294967296]", "[4611686018427387904,2]",
                                    "[0,9223372036854775808]", "[0,18446744073709551615]"}) {
      write_raw(path, "{" + entry("a", shape, 0, 4) + "}", std::string(4, 'x'));
      REQUIRE_THROWS_WITH(load_safetensors(path), Contains(path) && Contains("tensor 'a'") &&
                                                      Contains("overflows 64 bits"));
    }
  }
  SECTION("entries listed in any order: the ranges are sorted by offset first") {
    const float a = 1.5f, b = -2.0f;
    std::string data(8, '\0');
    std::memcpy(data.data(), &b, 4);
    std::memcpy(data.data() + 4, &a, 4);
    write_raw(path, "{" + entry("a", "[1]", 4, 8) + "," + entry("b", "[]", 0, 4) + "}", data);
    const SafetensorsContents c = load_safetensors(path);
    REQUIRE(c.tensors.at("a").to_vector() == std::vector<double>{1.5});
    REQUIRE(c.tensors.at("b").to_vector() == std::vector<double>{-2.0});
  }
}
