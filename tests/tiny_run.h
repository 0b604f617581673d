#pragma once
// What the training tests run on: a tiny conv net registered as a model name, and tiny
// CIFAR-10-format files whose class is readable from the pixels (the mean brightness of the red
// plane grows with the label), so a few steps of training visibly learn.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "datasets/cifar.h"
#include "datasets/presets.h"
#include "datasets/transforms.h"
#include "nn/activation.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/flatten.h"
#include "nn/linear.h"
#include "nn/models/registry.h"
#include "nn/pooling.h"
#include "nn/sequential.h"

namespace qnn::testing {

// conv (stride 2) -> BN -> ReLU -> global pool -> linear, under `name`: two weights to quantize,
// BN and a bias in FP, parameters and BN buffers to resume.
inline void register_tiny_model(const std::string& name = "test_tiny") {
  const std::vector<std::string> known = nn::model_names();
  if (std::find(known.begin(), known.end(), name) != known.end())
    return;
  nn::register_model({name, "a tiny conv net for training tests", [](const nn::ModelOptions& o) {
                        auto net = std::make_shared<nn::Sequential>();
                        nn::Conv2dArgs args;
                        args.stride = 2;
                        args.padding = 1;
                        net->push_back(std::make_shared<nn::Conv2d>(3, 8, 3, args, o.generator()));
                        net->push_back(std::make_shared<nn::BatchNorm2d>(8));
                        net->push_back(std::make_shared<nn::ReLU>());
                        net->push_back(std::make_shared<nn::AdaptiveAvgPool2d>(1));
                        net->push_back(std::make_shared<nn::Flatten>());
                        net->push_back(std::make_shared<nn::Linear>(8, o.num_classes, true, o.generator()));
                        return std::static_pointer_cast<nn::Module>(net);
                      }});
}

// A CIFAR-10-format file of `n` records (label i % 10) in dir/tiny.bin.
inline std::string write_tiny_cifar(const std::filesystem::path& dir, int64_t n, uint64_t seed) {
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "tiny.bin";
  std::ofstream out(path, std::ios::binary);
  Generator gen(seed);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t label = static_cast<uint8_t>(i % 10);
    out.put(static_cast<char>(label));
    for (int64_t k = 0; k < 3072; ++k) {
      const double base = k < 1024 ? 20.0 * label : 100.0;
      out.put(static_cast<char>(static_cast<uint8_t>(base + 40.0 * gen.uniform())));
    }
  }
  return path.string();
}

// 96 training images (augmented) and 40 test images under `dir`, CIFAR-10 statistics.
inline data::ClassificationData tiny_data(const std::filesystem::path& dir) {
  data::ClassificationData d;
  d.norm = data::named_normalization("cifar10");
  d.norm_source = "test";
  d.train = std::make_shared<data::Cifar>(data::CifarVariant::Cifar10,
                                          std::vector<std::string>{write_tiny_cifar(dir / "train", 96, 1)},
                                          data::cifar_train_transform(d.norm.mean, d.norm.std));
  d.test = std::make_shared<data::Cifar>(data::CifarVariant::Cifar10,
                                         std::vector<std::string>{write_tiny_cifar(dir / "test", 40, 2)},
                                         data::cifar_test_transform(d.norm.mean, d.norm.std));
  d.num_classes = 10;
  return d;
}

}  // namespace qnn::testing
