// `qnn data get cifar10 [--dir D]`: downloads the official binary archive with progress, checks its
// MD5 against the published one, and unpacks it (D/cifar-10-batches-bin/). --url and --md5 point
// it at a mirror.
#include "apps/data_get.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "apps/commands.h"
#include "apps/progress.h"
#include "core/error.h"
#include "datasets/archive.h"
#include "datasets/checksum.h"
#include "datasets/download.h"
#include "datasets/presets.h"

namespace qnn::apps {

namespace fs = std::filesystem;

namespace {

struct Archive {
  std::string url, md5, folder;
};

// The official archives and their MD5s (https://www.cs.toronto.edu/~kriz/cifar.html; the same
// checksums torchvision lists).
const std::map<std::string, Archive>& archives() {
  static const std::map<std::string, Archive> known = {
      {"cifar10",
       {"https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530",
        "cifar-10-batches-bin"}},
      {"cifar100",
       {"https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8",
        "cifar-100-binary"}},
  };
  return known;
}

}  // namespace

std::string get_dataset(const DataGetOptions& o, std::ostream& log) {
  const auto it = archives().find(o.name);
  QNN_CHECK(it != archives().end(), "data get", "got dataset '" << o.name << "' (expected cifar10 or cifar100)");
  const std::string url = o.url.empty() ? it->second.url : o.url;
  const std::string md5 = o.md5.empty() ? it->second.md5 : o.md5;
  fs::create_directories(o.dir);
  const fs::path archive = fs::path(o.dir) / fs::path(url).filename();
  if (fs::exists(archive) && data::md5_of_file(archive.string()) == md5) {
    log << archive.string() << " is already here (MD5 matches)\n";
  } else {
    log << "downloading " << url << '\n';
    ProgressBar bar("download", 100);
    data::download(url, archive.string(), [&](int64_t now, int64_t total) {
      if (total > 0)
        bar.update(100 * now / total, now, std::to_string(now >> 20) + "/" + std::to_string(total >> 20) + " MiB");
    });
    bar.finish();
  }
  const std::string got = data::md5_of_file(archive.string());
  if (got != md5) {
    fs::remove(archive);
    throw Error("data get: " + archive.string() + " has MD5 " + got + " (expected " + md5 +
                "); the file was removed, run again to download it anew");
  }
  log << "MD5 " << got << " matches; unpacking\n";
  const std::vector<std::string> files = data::extract_archive(archive.string(), o.dir);
  const fs::path folder = fs::path(o.dir) / it->second.folder;
  QNN_CHECK(
      fs::is_directory(folder), "data get",
      archive.string() << " did not contain " << it->second.folder << "/ (unpacked " << files.size() << " files)");
  if (!o.keep_archive)
    fs::remove(archive);
  log << "unpacked " << files.size() << " files into " << folder.string() << '\n';
  return folder.string();
}

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Get datasets");
  data->require_subcommand(1);
  auto o = std::make_shared<DataGetOptions>();
  auto* get = data->add_subcommand("get", "Download, check (MD5) and unpack a dataset's official archive");
  get->add_option("name", o->name, "cifar10 or cifar100")->required();
  get->add_option("--dir", o->dir, "Where to put it")->capture_default_str();
  get->add_option("--url", o->url, "Download from this URL instead (a mirror)");
  get->add_option("--md5", o->md5, "Expected MD5 of the archive at --url");
  get->add_flag("--keep-archive", o->keep_archive, "Keep the .tar.gz after unpacking");
  get->callback([o] {
    const std::string folder = get_dataset(*o, std::cout);
    std::cout << "use it with: --data " << folder << '\n';
  });
  // The ImageNet sample JPEGs of shared/data/imagenet as a folder `--dataset imagenet` reads, to
  // run the ImageNet path end to end where the dataset itself is absent (datasets/presets.h).
  struct SampleOptions {
    std::string from, out, split = "val";
    int64_t limit = 0;
  };
  auto so = std::make_shared<SampleOptions>();
  auto* sample = data->add_subcommand(
      "imagenet-samples", "Lay out ImageNet sample JPEGs (<wnid>_<name>.JPEG) as DIR/<split>/<wnid>/ for --data DIR");
  sample->add_option("--from", so->from, "The folder of shared/data/imagenet (class_samples_original/ inside)")
      ->required();
  sample->add_option("--out", so->out, "The folder to create")->required();
  sample->add_option("--split", so->split, "val or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"val", "train"}));
  sample->add_option("--limit", so->limit, "Only the first N files in name order (0: all)")->capture_default_str();
  sample->callback([so] {
    const fs::path from(so->from);
    const int64_t n =
        data::make_imagenet_sample_folder((from / "class_samples_original").string(),
                                          (from / "imagenet_classes.tsv").string(), so->out, so->split, so->limit);
    std::cout << "linked " << n << " images into " << (fs::path(so->out) / so->split).string()
              << "; use it with: --dataset imagenet --data " << so->out << '\n';
  });
}

}  // namespace qnn::apps
