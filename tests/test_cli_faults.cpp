// bt_train when things go wrong: killed (SIGKILL) at random moments and resumed until done, it
// must end with the uninterrupted run's weights and loss curve, and a checkpoint that loads after
// every kill; a diverging run, a read-only output folder or a full disk must end with a one-line
// error while the last good checkpoint stays as it was.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/serialize/safetensors.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using bt::testing::TempDir;

namespace {

struct SpawnOptions {
  rlim_t max_file_bytes = RLIM_INFINITY;  // RLIMIT_FSIZE: a write past it fails like a full disk
  bool unprivileged = false;              // as user nobody, so that file permissions apply to root too
};

// Starts bt_train with `args` (its output into `output`), one OpenMP thread: a run and its
// resumed pieces then sum in the same order and give bit-identical results.
pid_t spawn(const std::vector<std::string>& args, const std::string& output, const SpawnOptions& o = {}) {
  std::vector<char*> argv;  // built before the fork
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid > 0) return pid;
  ::setenv("OMP_NUM_THREADS", "1", 1);
  ::setenv("OMP_WAIT_POLICY", "passive", 1);
  const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  if (o.max_file_bytes != RLIM_INFINITY) {
    ::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG instead of ending the process
    const rlimit limit{o.max_file_bytes, o.max_file_bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  if (o.unprivileged && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) std::_Exit(126);
  ::execv(argv[0], argv.data());
  std::_Exit(127);
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

// The exit code, or 128 + the signal that ended it.
int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return exit_code_of(status);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// 4 epochs of 3 steps of a width-4 ResNet-18 Barlow Twins on 72 synthetic training images (24 for
// the kNN), about 1 s.
std::vector<std::string> tiny_run(const fs::path& out, int epochs = 4) {
  return {BT_TRAIN_EXE, "--synthetic-size", "96", "--batch", "16", "--width", "4", "--head-scale", "0.125",
          "--epochs", std::to_string(epochs), "--max-steps-per-epoch", "3", "--threads", "1", "--val-split", "0.25", "--knn-k", "5",
          "--log-every", "1", "--out", out.string()};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Runs to the end; the exit code, the output in `output`.
int run_to_end(const std::vector<std::string>& args, const std::string& output, const SpawnOptions& o = {}) {
  return wait_for(spawn(args, output, o));
}

// The loss curve of a log.jsonl: every line without its timings (seconds, images/s).
std::vector<nlohmann::json> curve(const fs::path& log) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    j.erase("seconds");
    j.erase("images_per_s");
    lines.push_back(j);
  }
  return lines;
}

// A checkpoint.safetensors.tmp.<pid>.<n> in `dir`, of process `pid` (0: of any).
bool temporary_checkpoint_in(const fs::path& dir, pid_t pid = 0) {
  const std::string prefix = "checkpoint.safetensors.tmp." + (pid > 0 ? std::to_string(pid) + "." : "");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  return false;
}

// Sees the files created in a folder from the moment it is constructed: inotify queues each
// creation, so a temporary file that exists only for a moment is still seen (polling the folder
// misses it on a loaded machine, and the run then goes on to its end).
class CreationWatch {
 public:
  explicit CreationWatch(const fs::path& dir) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    REQUIRE(fd_ >= 0);
    REQUIRE(::inotify_add_watch(fd_, dir.c_str(), IN_CREATE) >= 0);
  }
  ~CreationWatch() { ::close(fd_); }
  CreationWatch(const CreationWatch&) = delete;
  CreationWatch& operator=(const CreationWatch&) = delete;

  // Waits up to `ms` milliseconds; true once a file whose name starts with `prefix` was created.
  bool created(const std::string& prefix, int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    alignas(inotify_event) char buf[4096];
    bool seen = false;
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;)
      for (ssize_t at = 0; at < n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf + at);
        if (ev->len > 0 && std::string(ev->name).rfind(prefix, 0) == 0) seen = true;
        at += ssize_t(sizeof(inotify_event) + ev->len);
      }
    return seen;
  }

 private:
  int fd_;
};

// The highest step logged in `log` so far (a line being written may be cut short: skipped).
int64_t last_logged_step(const fs::path& log) {
  int64_t step = 0;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("step")) step = std::max(step, j["step"].get<int64_t>());
  }
  return step;
}

// Waits until `done_now()` or the process ends; true when it ended (its exit code in *code).
template <class Done>
bool ended_first(pid_t pid, Done done_now, int* code) {
  int status = 0;
  while (!done_now()) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      *code = exit_code_of(status);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return false;
}

// The checkpoint's completed epochs; it must load.
int64_t checkpoint_epoch(const fs::path& ckpt) {
  const bt::SafetensorsContents c = bt::load_safetensors(ckpt.string());
  return std::stoll(c.metadata.at("epoch"));
}

}  // namespace

TEST_CASE("bt_train killed at random moments and resumed until done equals the uninterrupted run, bit for bit") {
  TempDir dir;
  const fs::path ref = dir.path / "ref", out = dir.path / "killed", ckpt = out / "checkpoint.safetensors";
  const int kEpochs = 6, kSteps = 3;
  REQUIRE(run_to_end(tiny_run(ref, kEpochs), dir / "ref.txt") == 0);

  // Alternately: a kill during a random step still to come but the last (once the step before it
  // is logged, after a random part of a step's time, about 70 ms; in the start-up when the step
  // drawn is the process's first), and a kill the moment a temporary checkpoint file appears (a
  // checkpoint being written; one killed before its rename leaves the file behind). After kKills
  // kills the run goes on to its end. A kill in the last step could land after the last
  // checkpoint, leaving a run that only exports and so ending the kills early.
  std::mt19937 gen(17);
  std::uniform_real_distribution<double> within_step_s(0.0, 0.07);
  const int kKills = 16;
  int kills = 0, kills_in_checkpoint_write = 0;
  fs::create_directories(out);  // watched from the first run on
  for (int exit_code = -1; exit_code != 0;) {
    const bool resume = fs::exists(ckpt);
    const int64_t done_steps = resume ? checkpoint_epoch(ckpt) * kSteps : 0, left = kEpochs * kSteps - done_steps;
    CreationWatch watch(out);
    const pid_t pid = spawn(with(tiny_run(out, kEpochs), resume ? std::vector<std::string>{"--resume"}
                                                                : std::vector<std::string>{}),
                            dir / "killed.txt");
    exit_code = -1;
    bool ended = false;
    if (kills < kKills && kills % 2 == 0) {
      // The step after step `after` (done_steps: the first step this process takes).
      const int64_t after = done_steps + std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(0, left - 2))(gen);
      if (after > done_steps)
        ended = ended_first(pid, [&] { return last_logged_step(out / "log.jsonl") >= after; }, &exit_code);
      if (!ended) std::this_thread::sleep_for(std::chrono::duration<double>(within_step_s(gen)));
    } else if (kills < kKills) {
      ended = ended_first(pid, [&] { return watch.created("checkpoint.safetensors.tmp.", 1); }, &exit_code);
    }
    if (kills < kKills && !ended) ::kill(pid, SIGKILL);  // one that ended already is a zombie until waited for
    if (!ended) exit_code = wait_for(pid);
    if (exit_code != 0 && temporary_checkpoint_in(out, pid)) ++kills_in_checkpoint_write;  // before its rename
    INFO(slurp(dir.path / "killed.txt"));
    REQUIRE((exit_code == 0 || exit_code == 128 + SIGKILL));
    if (exit_code != 0) ++kills;
    if (fs::exists(ckpt)) REQUIRE(checkpoint_epoch(ckpt) >= 1);  // whole, loads
  }
  INFO(kills << " kills, " << kills_in_checkpoint_write << " while a checkpoint was being written");
  // Fewer kills only if a step's kill landed after the last checkpoint all the same.
  CHECK(kills >= kKills / 2);
  CHECK(kills_in_checkpoint_write >= 2);
  CHECK(checkpoint_epoch(ckpt) == kEpochs);
  REQUIRE(slurp(out / "backbone.safetensors") == slurp(ref / "backbone.safetensors"));
  const std::vector<nlohmann::json> expected = curve(ref / "log.jsonl"), got = curve(out / "log.jsonl");
  REQUIRE(expected.size() == 1 + 1 + kEpochs * kSteps + kEpochs);  // config, random-init kNN, steps, epochs
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == expected[i]);
  CHECK_FALSE(temporary_checkpoint_in(out));  // a killed write's leftovers are removed on resume
}

TEST_CASE("bt_train diverging to a non-finite parameter stops naming it and keeps the last good checkpoint") {
  TempDir dir;
  const fs::path out = dir.path / "run", ckpt = out / "checkpoint.safetensors";
  REQUIRE(run_to_end(tiny_run(out, 1), dir / "first.txt") == 0);
  const std::string good = slurp(ckpt), exported = slurp(out / "backbone.safetensors");
  // Epoch 2 at lr 1e300: the float update overflows to ±inf at its first step (step 4).
  const int code = run_to_end(with(tiny_run(out, 2), {"--resume", "--optimizer", "sgd", "--lr", "1e300"}),
                              dir / "second.txt");
  const std::string said = slurp(dir.path / "second.txt");
  INFO(said);
  CHECK(code == 1);
  CHECK_THAT(said, Catch::Contains("bt_train: error: non-finite parameter of backbone.") &&
                       Catch::Contains(" at step 4 (epoch 2); the last good checkpoint " + ckpt.string() + " is kept"));
  CHECK(slurp(ckpt) == good);
  CHECK(checkpoint_epoch(ckpt) == 1);
  CHECK(slurp(out / "backbone.safetensors") == exported);  // the first run's, not overwritten
}

TEST_CASE("bt_train into a read-only output folder fails in one line and keeps the checkpoint") {
  TempDir dir;
  const fs::path out = dir.path / "run", ckpt = out / "checkpoint.safetensors";
  REQUIRE(run_to_end(tiny_run(out, 1), dir / "first.txt") == 0);
  const std::string good = slurp(ckpt), log = slurp(out / "log.jsonl");
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                           fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const int code = run_to_end(with(tiny_run(out, 2), {"--resume"}), dir / "second.txt",
                              {.unprivileged = true});
  fs::permissions(out, fs::perms::owner_all, fs::perm_options::add);
  const std::string said = slurp(dir.path / "second.txt");
  INFO(said);
  CHECK(code == 1);
  CHECK_THAT(said, Catch::Contains("bt_train: error: cannot write the log " + (out / "log.jsonl").string()) &&
                       Catch::Contains("Permission denied"));
  CHECK(slurp(ckpt) == good);
  CHECK(slurp(out / "log.jsonl") == log);
}

TEST_CASE("bt_train on a full disk fails in one line naming the checkpoint and keeps the last good one") {
  TempDir dir;
  const fs::path out = dir.path / "run", ckpt = out / "checkpoint.safetensors";
  REQUIRE(run_to_end(tiny_run(out, 1), dir / "first.txt") == 0);
  const std::string good = slurp(ckpt);
  // Files may grow to half a checkpoint: the log still fits, the next checkpoint does not.
  const int code = run_to_end(with(tiny_run(out, 2), {"--resume"}), dir / "second.txt",
                              {.max_file_bytes = rlim_t(good.size() / 2)});
  const std::string said = slurp(dir.path / "second.txt");
  INFO(said);
  CHECK(code == 1);
  CHECK_THAT(said, Catch::Contains("bt_train: error: save_safetensors: cannot write '" + ckpt.string() + "'") &&
                       Catch::Contains("File too large"));
  CHECK(slurp(ckpt) == good);
  CHECK(checkpoint_epoch(ckpt) == 1);
  CHECK_FALSE(temporary_checkpoint_in(out));
}
