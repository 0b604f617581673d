#pragma once
// The datasets the commands name (`--dataset cifar10 --data DIR`), with the standard transforms.
#include <memory>
#include <string>

#include "apps/weights.h"
#include "datasets/cifar.h"

namespace qnn::apps {

struct ClassificationData {
  std::shared_ptr<const data::Dataset> train;  // with augmentation (random crop + flip) when asked for
  std::shared_ptr<const data::Dataset> test;
  int64_t num_classes = 0;
};

// dataset: "cifar10" or "cifar100". dir: the folder of the official binary files; empty means
// $QNN_DATA_DIR/cifar-10-batches-bin (CIFAR-10 only). load_train = false skips the 50,000
// training images (evaluation needs only the test split).
ClassificationData load_classification_data(const std::string& dataset, const std::string& dir,
                                            const Normalization& norm, bool load_train, bool augment = true);

// The folder `--data` resolves to (for messages).
std::string resolve_data_dir(const std::string& dataset, const std::string& dir);

}  // namespace qnn::apps
