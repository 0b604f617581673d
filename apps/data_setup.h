#pragma once
// The datasets the commands name (`--dataset cifar10 --data DIR`), with the standard transforms.
#include <memory>
#include <string>

#include "apps/weights.h"
#include "datasets/cifar.h"

namespace qnn::apps {

struct ClassificationData {
  std::shared_ptr<const data::Dataset> train;  // with augmentation (random crop + flip) when asked for
  std::shared_ptr<const data::Dataset> test;   // ImageNet: the val split
  int64_t num_classes = 0;
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

}  // namespace qnn::apps
