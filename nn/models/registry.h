#pragma once
// make_model(name, options): every model qnn knows, by the name a config or the command line
// uses. Adding a model is one line in the table in registry.cpp (or a register_model call).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "nn/module.h"

namespace qnn::nn {

struct ModelOptions {
  int64_t num_classes = 10;
  // Draws the initial weights (null: the global generator, set with qnn::manual_seed).
  Generator* gen = nullptr;
  // Regularization for models that have it (ViT/DeiT); a model without it rejects non-zero values.
  float drop_rate = 0.0f;
  float drop_path_rate = 0.0f;

  Generator& generator() const { return gen ? *gen : default_generator(); }
};

using ModelFactory = std::function<std::shared_ptr<Module>(const ModelOptions&)>;

struct ModelInfo {
  std::string name;
  std::string description;  // one line: what it is and where its weights come from
  ModelFactory make;
};

// Builds a fresh, randomly initialized model. An unknown name throws listing the known ones.
std::shared_ptr<Module> make_model(const std::string& name, const ModelOptions& options = {});
// The known models, in the order they were added.
std::vector<ModelInfo> model_list();
std::vector<std::string> model_names();
// Adds a model at run time; a name already taken throws.
void register_model(ModelInfo info);

}  // namespace qnn::nn
