#include "tools/lib/run_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "engine/error.h"

namespace bt::tools {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error("cannot write the log " + path.string() + ": " + what + ": " + std::strerror(errno));
}

bool past_checkpoint(const std::string& line, int64_t step, int64_t epoch) {
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return true;  // half-written by a killed run
  if (j.contains("step")) return !j["step"].is_number_integer() || j["step"].get<int64_t>() > step;
  if (j.contains("epoch")) return !j["epoch"].is_number_integer() || j["epoch"].get<int64_t>() > epoch;
  return false;  // the config line
}

// Replaces `path` by `text`: written to a temporary file, fsynced, renamed over it, the
// directory fsynced (the same steps as engine/serialize/safetensors.cpp).
void replace_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path, "cannot create " + tmp.string());
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = e;
      fail(path, "write failed");
    }
    done += size_t(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (::close(fd) != 0 || !synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    fail(path, "fsync, close or rename failed");
  }
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  const bool dir_synced = dfd >= 0 && ::fsync(dfd) == 0;
  if (dfd >= 0) ::close(dfd);
  if (!dir_synced) fail(path, "fsync of its directory failed");
}

}  // namespace

JsonlLog::JsonlLog(const fs::path& path, bool append)
    : path_(path), out_(path, append ? std::ios::app : std::ios::trunc) {
  if (!out_.good()) fail(path, "cannot open it");
}

void JsonlLog::write(const nlohmann::json& line) {
  out_ << line.dump() << '\n' << std::flush;
  if (!out_.good()) fail(path_, "write failed");
}

void truncate_log_to_checkpoint(const fs::path& path, int64_t step, int64_t epoch) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return;
  std::string kept, line;
  bool cut = false;
  while (std::getline(in, line)) {
    if (in.eof() || past_checkpoint(line, step, epoch)) {  // eof: no '\n', the last line was cut short
      cut = true;
      break;
    }
    kept += line + '\n';
  }
  if (cut) replace_file(path, kept);
}

}  // namespace bt::tools
