#include "nn/models/registry.h"

#include <algorithm>
#include <mutex>
#include <sstream>

#include "core/error.h"
#include "nn/models/resnet_cifar.h"
#include "nn/models/resnet_imagenet.h"
#include "nn/models/vit.h"

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

ModelInfo imagenet_resnet(int64_t depth, ResNetBlock block, std::vector<int64_t> layers) {
  const std::string name = "resnet" + std::to_string(depth);
  return {name, "ImageNet ResNet-" + std::to_string(depth) + " (torchvision layout and names, v1.5)",
          [name, block, layers](const ModelOptions& o) -> std::shared_ptr<Module> {
            reject_dropout(name, o);
            return std::make_shared<ResNet>(block, layers, o.num_classes, o.generator());
          }};
}

// A ViT/DeiT: `base` gives the architecture; the options give classes, dropout and drop-path.
ModelInfo vit(std::string name, std::string description, VitConfig base) {
  return {std::move(name), std::move(description), [base](const ModelOptions& o) -> std::shared_ptr<Module> {
            VitConfig c = base;
            c.num_classes = o.num_classes;
            c.drop_rate = o.drop_rate;
            c.drop_path_rate = o.drop_path_rate;
            return std::make_shared<VisionTransformer>(c, o.generator());
          }};
}

// DeiT at 224x224 with 16x16 patches (Touvron et al. 2021, Table 1); width D, heads D / 64.
ModelInfo deit(const std::string& size, int64_t dim, int64_t heads, bool distilled) {
  const std::string name = "deit_" + size + (distilled ? "_distilled" : "");
  VitConfig c;
  c.embed_dim = dim;
  c.num_heads = heads;
  c.distilled = distilled;
  return vit(name,
             "DeiT-" + size + (distilled ? " distilled (dist token + head_dist)" : "") +
                 ": ViT D=" + std::to_string(dim) + ", depth 12, " + std::to_string(heads) +
                 " heads, patch 16, 224x224 (timm names)",
             c);
}

// A small ViT for 32x32 CIFAR images: 4x4 patches (an 8x8 grid, 64 tokens + cls), DeiT-Tiny's
// width and heads (D 192, 3 heads of 64, Mlp 768) at half its depth (6): 2.69M parameters at 10
// classes, near a CIFAR ResNet-110's 1.7M.
ModelInfo vit_cifar() {
  VitConfig c;
  c.img_size = 32;
  c.patch_size = 4;
  c.embed_dim = 192;
  c.depth = 6;
  c.num_heads = 3;
  return vit("vit_cifar", "ViT for 32x32 CIFAR: patch 4, D=192, depth 6, 3 heads, Mlp 768 (timm names)", c);
}

// The table: one line per model.
std::vector<ModelInfo>& table() {
  static std::vector<ModelInfo> models = {
      cifar_resnet(20),
      cifar_resnet(32),
      cifar_resnet(44),
      cifar_resnet(56),
      cifar_resnet(110),
      imagenet_resnet(18, ResNetBlock::Basic, {2, 2, 2, 2}),
      imagenet_resnet(50, ResNetBlock::Bottleneck, {3, 4, 6, 3}),
      deit("tiny", 192, 3, false),
      deit("small", 384, 6, false),
      deit("base", 768, 12, false),
      deit("tiny", 192, 3, true),
      deit("small", 384, 6, true),
      deit("base", 768, 12, true),
      vit_cifar(),
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
