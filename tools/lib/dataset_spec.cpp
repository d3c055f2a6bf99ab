#include "tools/lib/dataset_spec.h"

#include <filesystem>

#include "data/cifar10.h"
#include "data/image_folder.h"
#include "data/split.h"
#include "data/synthetic.h"
#include "engine/error.h"

namespace bt::tools {

namespace {

constexpr const char* kCifarPrefix = "cifar10-bin:";

struct Opened {
  std::shared_ptr<const data::Dataset> ds;
  int64_t skipped = 0;
  bool small = true;
};

// Errors are prefixed with the flag that named the data.
Opened open_one(const std::string& spec, const DatasetSpec& s, bool train, const char* flag) {
  try {
    if (spec == "synthetic")
      return {std::make_shared<data::SyntheticDataset>(data::SyntheticOptions{
          .size = s.synthetic_size, .image_size = s.image_size, .seed = s.seed + (train ? 0 : 1)})};
    if (spec.rfind(kCifarPrefix, 0) == 0)
      return {std::make_shared<data::Cifar10Binary>(spec.substr(std::string(kCifarPrefix).size()), train)};
    BT_CHECK(std::filesystem::is_directory(spec), spec, " is not a directory (nor 'synthetic' or 'cifar10-bin:DIR')");
    auto folder = std::make_shared<data::ImageFolder>(spec, data::ImageFolderOptions{.skip_bad = s.skip_bad});
    BT_CHECK(folder->size() > 0, spec, ": no images found");
    const bool small = folder->image(0).w <= 64;
    return {folder, folder->skipped_count(), small};
  } catch (const Error& e) {
    throw Error(std::string(flag) + ": " + e.what());
  }
}

}  // namespace

OpenedData open_data(const DatasetSpec& spec) {
  BT_CHECK(spec.val_split >= 0 && spec.val_split < 1, "--val-split must be in [0, 1), got ", spec.val_split);
  Opened main = open_one(spec.data, spec, true, "--data");
  OpenedData out{main.ds, nullptr, main.skipped, main.small};
  if (!spec.val_data.empty()) {
    Opened val = open_one(spec.val_data, spec, false, "--val-data");
    BT_CHECK(val.ds->num_classes() == main.ds->num_classes(), "--val-data ", spec.val_data, " has ",
             val.ds->num_classes(), " classes but --data has ", main.ds->num_classes());
    out.val = val.ds;
    out.skipped += val.skipped;
  } else if (spec.val_split > 0) {
    data::Split split = data::split_dataset(main.ds, spec.val_split, spec.seed);
    out.train = split.train;
    out.val = split.val;
  }
  return out;
}

}  // namespace bt::tools
