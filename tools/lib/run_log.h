#pragma once
// The run's log.jsonl: one JSON object per line, appended and flushed line by line, and cut
// back on --resume to what the checkpoint covers, so that a run killed in the middle of an epoch
// and resumed logs every step once (tools/lib/trainer.h).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace bt::tools {

class JsonlLog {
 public:
  // append: continue the file (--resume); else start it empty.
  JsonlLog(const std::filesystem::path& path, bool append);
  void write(const nlohmann::json& line);

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

// Keeps the log's lines up to the first one past the checkpoint: a step line ({"step": s, ...})
// with s > `step`, an epoch record ({"epoch": e, ...} without "step") with e > `epoch`, or a
// line cut short by a kill (not JSON). Rewritten atomically (a temporary file, fsync, rename,
// fsync of the directory) and only when something is cut; a missing log is left missing.
void truncate_log_to_checkpoint(const std::filesystem::path& path, int64_t step, int64_t epoch);

}  // namespace bt::tools
