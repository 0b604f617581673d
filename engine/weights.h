#pragma once
// Model weights on disk: safetensors files whose tensor names are the model's state_dict keys, so
// they load in PyTorch unchanged. A training checkpoint (engine/run_folder.h) stores the same names
// under "model." beside the optimizer's state; load_weights accepts either.
#include <map>
#include <string>
#include <vector>

#include "datasets/presets.h"
#include "nn/module.h"

namespace qnn::engine {

// Loads `path` into `model` (strict: every name must match, shapes too). Returns the file's
// metadata.
std::map<std::string, std::string> load_weights(nn::Module& model, const std::string& path);
// Refuses (qnn::Error naming `path` and the tensor) a state with a NaN or infinite float value,
// or a negative batch-norm running variance: such weights evaluate to numbers that mean nothing.
void check_state_values(const nn::StateDict& state, const std::string& path);
// Writes the model's state_dict (atomically) with `metadata`.
void save_weights(const nn::Module& model, const std::string& path, const std::map<std::string, std::string>& metadata);

// The normalization recorded in weights metadata ("normalize_mean"/"normalize_std", comma
// separated, as the pretrained CIFAR ResNets carry), if any.
bool normalization_from_metadata(const std::map<std::string, std::string>& metadata, data::Normalization& out);
void normalization_to_metadata(const data::Normalization& norm, std::map<std::string, std::string>& metadata);
// The normalization a run uses: `name` ("cifar10", "imagenet"), or with "auto" the one recorded
// in the metadata of `weights` (falling back to the dataset's usual one when the file has none or
// no file is given). `source` says which it was ("--normalize", "<file> metadata", "dataset default").
data::Normalization resolve_normalization(const std::string& name, const std::string& weights,
                                          const std::string& dataset, std::string* source = nullptr);

}  // namespace qnn::engine
