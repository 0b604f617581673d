#include "datasets/presets.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "datasets/image_folder.h"
#include "datasets/transforms.h"

namespace fs = std::filesystem;

namespace qnn::data {

namespace {

constexpr int64_t kImageNetClasses = 1000;

CifarVariant variant_of(const std::string& dataset) {
  if (dataset == "cifar10")
    return CifarVariant::Cifar10;
  if (dataset == "cifar100")
    return CifarVariant::Cifar100;
  throw Error("dataset: got '" + dataset + "' (expected cifar10, cifar100 or imagenet)");
}

ClassificationData load_cifar(const std::string& dataset, const std::string& folder, const Normalization& norm,
                              bool load_train, bool augment, bool load_test) {
  const CifarVariant variant = variant_of(dataset);
  ClassificationData out;
  out.num_classes = variant == CifarVariant::Cifar10 ? 10 : 100;
  if (load_test)
    out.test = std::make_shared<Cifar>(folder, variant, Split::Test, cifar_test_transform(norm.mean, norm.std));
  if (load_train)
    out.train = std::make_shared<Cifar>(
        folder, variant, Split::Train,
        augment ? cifar_train_transform(norm.mean, norm.std) : cifar_test_transform(norm.mean, norm.std));
  return out;
}

// The class list in `root`, if there is one (empty otherwise); it must name the 1000 classes.
std::vector<std::string> imagenet_class_list(const fs::path& root) {
  for (const char* name : {"imagenet_classes.tsv", "synset_words.txt"}) {
    const fs::path file = root / name;
    if (!fs::exists(file))
      continue;
    std::vector<std::string> classes = read_class_list(file.string());
    QNN_CHECK(static_cast<int64_t>(classes.size()) == kImageNetClasses, "imagenet",
              file.string() << ": got " << classes.size() << " classes (expected " << kImageNetClasses << ")");
    return classes;
  }
  return {};
}

std::shared_ptr<ImageFolder> imagenet_split(const fs::path& root, const char* split, const char* what,
                                            const std::vector<std::string>& classes, TransformPtr transform) {
  const fs::path dir = root / split;
  QNN_CHECK(fs::is_directory(dir), "imagenet",
            dir.string() << ": no such folder (expected the " << what << " images as " << split
                         << "/<wnid>/*.JPEG under --data " << root.string() << ")");
  auto ds = std::make_shared<ImageFolder>(dir.string(), std::move(transform), classes);
  QNN_CHECK(ds->num_classes() == kImageNetClasses, "imagenet",
            dir.string() << ": got " << ds->num_classes() << " class folders and no class list (expected "
                         << kImageNetClasses << " folders, or the 1000 wnids in "
                         << (root / "imagenet_classes.tsv").string()
                         << ", e.g. a copy of shared/data/imagenet/imagenet_classes.tsv)");
  return ds;
}

ClassificationData load_imagenet(const std::string& folder, const Normalization& norm, bool load_train, bool augment,
                                 bool load_test) {
  const fs::path root(folder);
  QNN_CHECK(fs::is_directory(root), "imagenet",
            folder << ": no such folder (expected --data DIR holding train/ and/or val/ with one sub-folder per wnid)");
  const std::vector<std::string> classes = imagenet_class_list(root);
  ClassificationData out;
  out.num_classes = kImageNetClasses;
  const auto eval = imagenet_eval_transform(norm.mean, norm.std);
  if (load_test)
    out.test = imagenet_split(root, "val", "validation", classes, eval);
  if (load_train)
    out.train = imagenet_split(root, "train", "training", classes,
                               augment ? imagenet_train_transform(norm.mean, norm.std) : eval);
  return out;
}

}  // namespace

Normalization named_normalization(const std::string& name) {
  if (name == "cifar10")
    return {kCifar10Mean, kCifar10Std};
  if (name == "imagenet")
    return {kImageNetMean, kImageNetStd};
  throw Error("normalization: got '" + name + "' (expected cifar10 or imagenet)");
}

std::string normalization_name(const Normalization& norm) {
  for (const char* name : {"cifar10", "imagenet"})
    if (named_normalization(name) == norm)
      return name;
  return "custom";
}

std::shared_ptr<const Dataset> first_n(std::shared_ptr<const Dataset> dataset, int64_t limit) {
  if (limit <= 0 || limit >= dataset->size())
    return dataset;
  std::vector<int64_t> indices(limit);
  for (int64_t i = 0; i < limit; ++i)
    indices[i] = i;
  return std::make_shared<Subset>(dataset, indices);
}

std::string resolve_data_dir(const std::string& dataset, const std::string& dir) {
  if (!dir.empty())
    return dir;
  QNN_CHECK(dataset != "imagenet", "data",
            "no --data folder given for imagenet (expected --data DIR holding train/ and/or val/ in the ImageFolder "
            "layout, DIR/val/<wnid>/*.JPEG)");
  const char* root = std::getenv("QNN_DATA_DIR");
  QNN_CHECK(dataset == "cifar10" && root && *root, "data",
            "no --data folder given for " << dataset
                                          << " (expected --data DIR with the official binary files, or QNN_DATA_DIR "
                                             "holding cifar-10-batches-bin/)");
  return std::string(root) + "/cifar-10-batches-bin";
}

ClassificationData load_classification_data(const std::string& dataset, const std::string& dir,
                                            const Normalization& norm, bool load_train, bool augment, bool load_test) {
  ClassificationData out;
  if (dataset == "imagenet") {
    out = load_imagenet(resolve_data_dir(dataset, dir), norm, load_train, augment, load_test);
  } else {
    variant_of(dataset);  // an unknown name fails here, before the folder is looked for
    out = load_cifar(dataset, resolve_data_dir(dataset, dir), norm, load_train, augment, load_test);
  }
  out.norm = norm;
  out.norm_source = normalization_name(norm);
  return out;
}

int64_t dataset_num_classes(const std::string& dataset) {
  if (dataset == "imagenet")
    return kImageNetClasses;
  return variant_of(dataset) == CifarVariant::Cifar10 ? 10 : 100;
}

std::string default_normalization(const std::string& dataset) {
  if (dataset == "imagenet")
    return "imagenet";
  variant_of(dataset);
  return "cifar10";
}

int64_t make_imagenet_sample_folder(const std::string& samples_dir, const std::string& class_list,
                                    const std::string& out_root, const std::string& split, int64_t limit) {
  std::error_code ec;
  QNN_CHECK(fs::is_directory(samples_dir, ec), "make_imagenet_sample_folder",
            samples_dir << ": no such folder (expected JPEGs named <wnid>_<name>.JPEG)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(samples_dir))
    if (entry.path().extension() == ".JPEG")
      files.push_back(fs::absolute(entry.path()));
  std::sort(files.begin(), files.end());
  if (limit > 0 && static_cast<int64_t>(files.size()) > limit)
    files.resize(static_cast<size_t>(limit));
  QNN_CHECK(!files.empty(), "make_imagenet_sample_folder", samples_dir << ": no .JPEG files");
  fs::create_directories(fs::path(out_root) / split);
  fs::copy_file(class_list, fs::path(out_root) / "imagenet_classes.tsv", fs::copy_options::overwrite_existing);
  for (const fs::path& f : files) {
    const std::string name = f.filename().string();
    const size_t cut = name.find('_');
    QNN_CHECK(cut != std::string::npos && cut > 0, "make_imagenet_sample_folder",
              f.string() << ": no wnid in the name (expected <wnid>_<name>.JPEG)");
    const fs::path dir = fs::path(out_root) / split / name.substr(0, cut);
    fs::create_directories(dir);
    fs::remove(dir / name);
    fs::create_symlink(f, dir / name, ec);
    if (ec)  // e.g. a file system without links
      fs::copy_file(f, dir / name);
  }
  return static_cast<int64_t>(files.size());
}

}  // namespace qnn::data
