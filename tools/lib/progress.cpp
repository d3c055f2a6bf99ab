#include "tools/lib/progress.h"

#include <unistd.h>

#include <cstdio>

namespace bt::tools {

Progress::Progress(std::string label, int64_t total, int64_t line_every)
    : label_(std::move(label)), total_(total), line_every_(line_every), tty_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(int64_t done, double loss, double images_per_s) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed / double(done) * double(total_ - done) : 0;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = total_ > 0 ? int(kWidth * done / total_) : kWidth;
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %ld/%ld loss %.4f  %.0f img/s  ETA %.0fs   ", label_.c_str(), bar.c_str(),
                 long(done), long(total_), loss, images_per_s, eta);
    std::fflush(stderr);
  } else if (done % line_every_ == 0 || done == total_) {
    std::fprintf(stderr, "%s step %ld/%ld loss %.4f %.0f img/s ETA %.0fs\n", label_.c_str(), long(done),
                 long(total_), loss, images_per_s, eta);
  }
}

void Progress::finish(const std::string& summary) {
  if (tty_) std::fprintf(stderr, "\n");
  std::fprintf(stderr, "%s %s\n", label_.c_str(), summary.c_str());
}

}  // namespace bt::tools
