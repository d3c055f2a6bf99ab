#pragma once
// A fresh directory for one test, removed with its contents at scope exit.
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>

namespace bt::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("bt_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The path of `rel` inside the directory; its parent folders are created.
  std::string operator/(const std::string& rel) const {
    std::filesystem::create_directories((path / rel).parent_path());
    return (path / rel).string();
  }
  size_t entries() const {
    return size_t(std::distance(std::filesystem::directory_iterator(path), std::filesystem::directory_iterator()));
  }
};

}  // namespace bt::testing
