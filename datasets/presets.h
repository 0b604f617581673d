#pragma once
// Dataset presets: the datasets a run names (`--dataset cifar10 --data DIR`) with their standard
// transforms and input normalizations, as nn/models/registry.h names models.
#include <memory>
#include <string>
#include <vector>

#include "datasets/cifar.h"

namespace qnn::data {

// Per-channel input normalization a model was trained with.
struct Normalization {
  std::vector<float> mean, std;
  bool operator==(const Normalization&) const = default;
};

// "cifar10" (CIFAR-10 training statistics) or "imagenet" (what the akamaster CIFAR ResNets and
// torchvision's ImageNet models used). Throws qnn::Error for another name.
Normalization named_normalization(const std::string& name);
// The preset's name of `norm` ("cifar10", "imagenet"), or "custom".
std::string normalization_name(const Normalization& norm);

struct ClassificationData {
  std::shared_ptr<const Dataset> train;  // with augmentation (random crop + flip) when asked for
  std::shared_ptr<const Dataset> test;   // ImageNet: the val split
  int64_t num_classes = 0;
  Normalization norm;       // the input normalization of both splits
  std::string norm_source;  // where it came from, for run records ("--normalize cifar10")
};

// dataset: "cifar10", "cifar100" or "imagenet".
// - cifar10/cifar100: dir = the folder of the official binary files; empty means
//   $QNN_DATA_DIR/cifar-10-batches-bin (CIFAR-10 only).
// - imagenet: dir = a folder holding train/ and/or val/ in the ImageFolder layout
//   (DIR/val/<wnid>/*.JPEG, datasets/image_folder.h); only the splits asked for must exist. Class
//   indices come from a class list DIR/imagenet_classes.tsv or DIR/synset_words.txt when there is
//   one (the files of shared/data/imagenet/: 1000 wnids in the standard order), so a folder with
//   only some classes keeps the standard indices; without one, a split's sub-folders must be the
//   1000 classes, numbered in sorted order (which is the standard order). Transforms: Resize(256),
//   CenterCrop(224) for the test split; RandomResizedCrop(224) + flip for train when augmenting.
// load_train = false skips the training split (evaluation needs only the test split);
// load_test = false skips the test split (e.g. calibration data only).
ClassificationData load_classification_data(const std::string& dataset, const std::string& dir,
                                            const Normalization& norm, bool load_train, bool augment = true,
                                            bool load_test = true);

// The folder `--data` resolves to (for messages).
std::string resolve_data_dir(const std::string& dataset, const std::string& dir);

// Classes of a dataset name (10, 100, 1000), and the normalization its models are usually trained
// with ("cifar10" for CIFAR, "imagenet" for ImageNet), for commands whose weights carry none.
int64_t dataset_num_classes(const std::string& dataset);
std::string default_normalization(const std::string& dataset);

// Lays out ImageNet sample JPEGs named <wnid>_<anything>.JPEG (as in
// shared/data/imagenet/class_samples_original) as a split of the layout above: out_root/<split>/
// <wnid>/<file>, as symbolic links (copies where links cannot be made), plus
// out_root/imagenet_classes.tsv copied from `class_list`. `limit` > 0 takes only the first files in
// name order. Returns the number of images. The same by hand:
//   mkdir -p T/val && cp shared/data/imagenet/imagenet_classes.tsv T/
//   for f in shared/data/imagenet/class_samples_original/*.JPEG; do
//     w=$(basename "$f"); w=${w%%_*}; mkdir -p T/val/$w && ln -s "$(realpath "$f")" T/val/$w/; done
int64_t make_imagenet_sample_folder(const std::string& samples_dir, const std::string& class_list,
                                    const std::string& out_root, const std::string& split = "val", int64_t limit = 0);

// The first `limit` examples of `dataset` (all of it when limit <= 0 or beyond its size).
std::shared_ptr<const Dataset> first_n(std::shared_ptr<const Dataset> dataset, int64_t limit);

}  // namespace qnn::data
