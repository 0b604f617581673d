#pragma once
// Model weights on disk: safetensors files whose tensor names are the model's state_dict keys, so
// they load in PyTorch unchanged. A training checkpoint (apps/checkpoint.h) stores the same names
// under "model." beside the optimizer's state; load_weights accepts either.
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"

namespace qnn::apps {

// Per-channel input normalization a model was trained with.
struct Normalization {
  std::vector<float> mean, std;
};

// Loads `path` into `model` (strict: every name must match, shapes too). Returns the file's
// metadata.
std::map<std::string, std::string> load_weights(nn::Module& model, const std::string& path);
// Writes the model's state_dict (atomically) with `metadata`.
void save_weights(const nn::Module& model, const std::string& path, const std::map<std::string, std::string>& metadata);

// The normalization recorded in weights metadata ("normalize_mean"/"normalize_std", comma
// separated, as the pretrained CIFAR ResNets carry), if any.
bool normalization_from_metadata(const std::map<std::string, std::string>& metadata, Normalization& out);
void normalization_to_metadata(const Normalization& norm, std::map<std::string, std::string>& metadata);
// "cifar10" (CIFAR-10 training statistics) or "imagenet" (what the akamaster weights used).
Normalization named_normalization(const std::string& name);

}  // namespace qnn::apps
