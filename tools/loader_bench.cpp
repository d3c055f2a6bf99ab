// loader_bench: data-pipeline throughput in images/s (each image = two augmented views) on 1
// and 2 threads. Always the synthetic set (generation + augmentation); with --data DIR an image
// folder too: its scan with parallel decoding into the in-memory cache, the loader reading from
// that cache, and the loader decoding every sample from disk (cache off). Beside wall-clock
// rates, the process CPU time of each run: images per CPU-second and CPU/wall (the parallelism
// achieved) stay meaningful when other jobs share the cores. A table, or JSON with --json.
#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "data/image_folder.h"
#include "data/loader.h"
#include "data/synthetic.h"

using namespace bt;
using namespace bt::data;
using json = nlohmann::json;

namespace {

struct Options {
  std::string data;
  std::string views = "asymmetric";
  int size = 32;
  int64_t batch = 256;
  int64_t batches = 20;
  int64_t synthetic_size = 20000;
  std::vector<int> threads = {1, 2};
  bool json = false;
  bool skip_bad = false;
};

struct Result {
  std::string dataset, stage;
  int threads;
  int64_t images;
  double seconds, cpu_seconds;  // wall-clock; CPU time of all the process's threads
};

double now() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

double cpu_now() { return double(std::clock()) / CLOCKS_PER_SEC; }

// Images/s of the two-view loader over up to `o.batches` batches of epoch 0, timed from the
// start of the epoch (so the prefetch queue's fill is inside the window).
Result time_loader(const std::string& name, const std::string& stage,
                   std::shared_ptr<const Dataset> ds, const ViewPair& views, int threads,
                   const Options& o) {
  LoaderOptions lo;
  lo.batch_size = o.batch;
  lo.threads = threads;
  lo.prefetch = 2 * threads;
  TwoViewBatch b;
  {
    TwoViewLoader warm(ds, views, lo);  // warms the allocator's cache and the page cache
    warm.start_epoch(1);
    warm.next(b);
  }
  TwoViewLoader loader(ds, views, lo);
  const double t0 = now(), c0 = cpu_now();
  loader.start_epoch(0);
  int64_t images = 0;
  for (int64_t k = 0; k < o.batches && loader.next(b); ++k) images += b.view1.size(0);
  return {name, stage, threads, images, now() - t0, cpu_now() - c0};
}

std::vector<Result> run(const Options& o) {
  std::vector<Result> out;
  const ViewPair views = views_named(o.views, o.size, /*cifar=*/o.size <= 64, "--views");
  SyntheticOptions so;
  so.size = o.synthetic_size;
  so.image_size = o.size;
  auto synthetic = std::make_shared<SyntheticDataset>(so);
  const std::string sname = "synthetic(" + std::to_string(so.size) + ")";
  for (int t : o.threads) out.push_back(time_loader(sname, "generate+augment", synthetic, views, t, o));
  if (o.data.empty()) return out;

  std::shared_ptr<ImageFolder> folder;
  for (int t : o.threads) {
    ImageFolderOptions fo;
    fo.threads = t;
    fo.skip_bad = o.skip_bad;
    const double t0 = now(), c0 = cpu_now();
    folder = std::make_shared<ImageFolder>(o.data, fo);
    out.push_back({o.data, "scan+decode to cache", t, folder->size(), now() - t0, cpu_now() - c0});
  }
  std::fprintf(stderr, "%s: %lld images, %d classes, %lld cached (%.1f MB), %lld undecodable skipped\n",
               o.data.c_str(), (long long)folder->size(), folder->num_classes(),
               (long long)folder->cached_count(), folder->cached_bytes() / 1e6,
               (long long)folder->skipped_count());
  for (int t : o.threads) out.push_back(time_loader(o.data, "cached+augment", folder, views, t, o));
  ImageFolderOptions lazy;
  lazy.cache_bytes = 0;
  lazy.skip_bad = o.skip_bad;
  auto uncached = std::make_shared<ImageFolder>(o.data, lazy);
  for (int t : o.threads)
    out.push_back(time_loader(o.data, "decode+augment", uncached, views, t, o));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Data loader throughput: decoded + augmented images/s"};
  app.add_option("--data", o.data, "an image folder root/<class>/<image> to benchmark too");
  app.add_option("--views", o.views, "view preset")
      ->check(CLI::IsMember({"asymmetric", "symmetric", "simsiam"}))
      ->capture_default_str();
  app.add_option("--size", o.size, "crop size (<= 64: CIFAR recipe, no blur)")->capture_default_str();
  app.add_option("--batch", o.batch, "batch size")->capture_default_str();
  app.add_option("--batches", o.batches, "batches timed per run")->capture_default_str();
  app.add_option("--synthetic-size", o.synthetic_size, "images in the synthetic set")->capture_default_str();
  app.add_option("--threads", o.threads, "loader thread counts to time")->capture_default_str();
  app.add_flag("--json", o.json, "print JSON instead of a table");
  app.add_flag("--skip-bad", o.skip_bad, "skip undecodable images (counted) instead of failing");
  CLI11_PARSE(app, argc, argv);

  try {
    const std::vector<Result> results = run(o);
    if (o.json) {
      json j = {{"cores", std::thread::hardware_concurrency()},
                {"views", o.views},
                {"size", o.size},
                {"batch", o.batch},
                {"results", json::array()}};
      for (const Result& r : results)
        j["results"].push_back({{"dataset", r.dataset},
                                {"stage", r.stage},
                                {"threads", r.threads},
                                {"images", r.images},
                                {"seconds", r.seconds},
                                {"cpu_seconds", r.cpu_seconds},
                                {"images_per_s", r.images / r.seconds},
                                {"images_per_cpu_s", r.images / r.cpu_seconds}});
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("%-24s %-20s %7s %7s %8s %9s %11s %8s\n", "dataset", "stage", "threads",
                  "images", "seconds", "images/s", "images/cpu-s", "cpu/wall");
      for (const Result& r : results)
        std::printf("%-24s %-20s %7d %7lld %8.3f %9.0f %11.0f %8.2f\n", r.dataset.c_str(),
                    r.stage.c_str(), r.threads, (long long)r.images, r.seconds,
                    r.images / r.seconds, r.images / r.cpu_seconds, r.cpu_seconds / r.seconds);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "loader_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
