#include "apps/data_setup.h"

#include <cstdlib>

#include "core/error.h"
#include "datasets/transforms.h"

namespace qnn::apps {

namespace {
data::CifarVariant variant_of(const std::string& dataset) {
  if (dataset == "cifar10")
    return data::CifarVariant::Cifar10;
  if (dataset == "cifar100")
    return data::CifarVariant::Cifar100;
  throw Error("dataset: got '" + dataset + "' (expected cifar10 or cifar100)");
}
}  // namespace

std::string resolve_data_dir(const std::string& dataset, const std::string& dir) {
  if (!dir.empty())
    return dir;
  const char* root = std::getenv("QNN_DATA_DIR");
  QNN_CHECK(dataset == "cifar10" && root && *root, "data",
            "no --data folder given for " << dataset
                                          << " (expected --data DIR with the official binary files, or QNN_DATA_DIR "
                                             "holding cifar-10-batches-bin/)");
  return std::string(root) + "/cifar-10-batches-bin";
}

ClassificationData load_classification_data(const std::string& dataset, const std::string& dir,
                                            const Normalization& norm, bool load_train, bool augment) {
  const data::CifarVariant variant = variant_of(dataset);
  const std::string folder = resolve_data_dir(dataset, dir);
  ClassificationData out;
  auto test = std::make_shared<data::Cifar>(folder, variant, data::Split::Test,
                                            data::cifar_test_transform(norm.mean, norm.std));
  out.num_classes = test->num_classes();
  out.test = test;
  if (load_train)
    out.train = std::make_shared<data::Cifar>(
        folder, variant, data::Split::Train,
        augment ? data::cifar_train_transform(norm.mean, norm.std) : data::cifar_test_transform(norm.mean, norm.std));
  return out;
}

}  // namespace qnn::apps
