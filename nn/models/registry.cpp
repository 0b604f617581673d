#include "nn/models/registry.h"

#include <algorithm>
#include <mutex>
#include <sstream>

#include "core/error.h"
#include "nn/models/resnet_cifar.h"

namespace qnn::nn {
namespace {

void reject_dropout(const std::string& name, const ModelOptions& o) {
  QNN_CHECK(o.drop_rate == 0.0f && o.drop_path_rate == 0.0f, "make_model",
            "got drop_rate " << o.drop_rate << ", drop_path_rate " << o.drop_path_rate << " for " << name
                             << " (expected 0: the model has no dropout)");
}

ModelInfo cifar_resnet(int64_t depth) {
  const std::string name = "resnet" + std::to_string(depth);
  return {name, "CIFAR ResNet-" + std::to_string(depth) + " (He et al. 2016, option A; akamaster weights)",
          [depth, name](const ModelOptions& o) -> std::shared_ptr<Module> {
            reject_dropout(name, o);
            return std::make_shared<ResNetCifar>(depth, o.num_classes, o.generator());
          }};
}

// The table: one line per model.
std::vector<ModelInfo>& table() {
  static std::vector<ModelInfo> models = {
      cifar_resnet(20), cifar_resnet(32), cifar_resnet(44), cifar_resnet(56), cifar_resnet(110),
  };
  return models;
}

std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

std::vector<ModelInfo> model_list() {
  std::lock_guard lock(table_mutex());
  return table();
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const ModelInfo& m : model_list())
    names.push_back(m.name);
  return names;
}

void register_model(ModelInfo info) {
  std::lock_guard lock(table_mutex());
  QNN_CHECK(!info.name.empty() && info.make, "register_model",
            "got '" << info.name << "' (expected a name and a factory)");
  const bool taken =
      std::any_of(table().begin(), table().end(), [&](const ModelInfo& m) { return m.name == info.name; });
  QNN_CHECK(!taken, "register_model", "got '" << info.name << "' (expected a name not yet registered)");
  table().push_back(std::move(info));
}

std::shared_ptr<Module> make_model(const std::string& name, const ModelOptions& options) {
  ModelFactory make;
  {
    std::lock_guard lock(table_mutex());
    for (const ModelInfo& m : table())
      if (m.name == name)
        make = m.make;
  }
  if (!make) {
    std::ostringstream known;
    for (const std::string& n : model_names())
      known << (known.tellp() > 0 ? ", " : "") << n;
    QNN_CHECK(false, "make_model", "got unknown model '" << name << "' (expected one of: " << known.str() << ")");
  }
  QNN_CHECK(options.num_classes > 0, "make_model", "got num_classes " << options.num_classes << " (expected > 0)");
  return make(options);
}

}  // namespace qnn::nn
