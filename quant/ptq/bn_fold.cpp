#include "quant/ptq/bn_fold.h"

#include <cmath>
#include <map>

#include "core/autograd.h"
#include "core/error.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"

namespace qnn::quant {

namespace {

// The conv a BN at `path` normalizes, by the naming conventions above ("" when none).
std::string partner_conv(const std::string& path) {
  const size_t dot = path.rfind('.');
  const std::string parent = dot == std::string::npos ? "" : path.substr(0, dot + 1);
  const std::string leaf = dot == std::string::npos ? path : path.substr(dot + 1);
  if (leaf.rfind("bn", 0) == 0)
    return parent + "conv" + leaf.substr(2);
  // In a Sequential: the BN at index n follows the module at n - 1.
  if (!leaf.empty() && leaf != "0" && leaf.find_first_not_of("0123456789") == std::string::npos)
    return parent + std::to_string(std::stoll(leaf) - 1);
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> conv_bn_pairs(nn::Module& model) {
  std::map<std::string, std::shared_ptr<nn::Module>> by_name;
  for (const auto& [name, module] : model.named_modules())
    by_name[name] = module;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [name, module] : model.named_modules()) {
    if (!dynamic_cast<nn::BatchNorm2d*>(module.get()))
      continue;
    const std::string conv = partner_conv(name);
    auto it = by_name.find(conv);
    if (it != by_name.end() && dynamic_cast<nn::Conv2d*>(it->second.get()))
      pairs.emplace_back(conv, name);
  }
  return pairs;
}

std::vector<std::pair<std::string, std::string>> fold_batchnorm(nn::Module& model) {
  QNN_CHECK(!model.is_training(), "fold_batchnorm",
            "the model is in training mode (expected eval(): folding uses the running statistics)");
  const auto pairs = conv_bn_pairs(model);
  NoGradGuard no_grad;
  for (const auto& [conv_name, bn_name] : pairs) {
    auto& conv = dynamic_cast<nn::Conv2d&>(*model.submodule(conv_name));
    auto& bn = dynamic_cast<nn::BatchNorm&>(*model.submodule(bn_name));
    QNN_CHECK(bn.running_mean.defined() && bn.weight.defined(), "fold_batchnorm",
              "'" << bn_name << "' has no running statistics or no affine parameters (expected both)");
    const int64_t C = conv.out_channels, per = conv.weight.numel() / C;
    float* w = conv.weight.data<float>();
    float* mu = bn.running_mean.data<float>();
    float* var = bn.running_var.data<float>();
    float* gamma = bn.weight.data<float>();
    float* beta = bn.bias.data<float>();
    float* b_conv = conv.bias.defined() ? conv.bias.data<float>() : nullptr;
    const float eps = bn.args.eps;
    // var + eps rounds to exactly 1 (|error| <= 2^-25), so the kernel's scale w_bn / sqrt(var + eps)
    // comes out as 1.0f and the BN adds b_new exactly.
    const float unit_var = 1.0f - eps;
    QNN_CHECK(static_cast<float>(1.0 / std::sqrt(static_cast<double>(unit_var) + eps)) == 1.0f, "fold_batchnorm",
              "eps = " << eps << " does not allow an exact identity scale (expected a small eps such as 1e-5)");
    for (int64_t c = 0; c < C; ++c) {
      const double s = static_cast<double>(gamma[c]) / std::sqrt(static_cast<double>(var[c]) + eps);
      for (int64_t i = 0; i < per; ++i)
        w[c * per + i] = static_cast<float>(w[c * per + i] * s);                // P2 (50), w_new
      const double b_new = ((b_conv ? b_conv[c] : 0.0) - mu[c]) * s + beta[c];  // P2 (50), b_new
      if (b_conv)
        b_conv[c] = 0.0f;
      mu[c] = 0.0f;
      var[c] = unit_var;
      gamma[c] = 1.0f;
      beta[c] = static_cast<float>(b_new);
    }
  }
  return pairs;
}

}  // namespace qnn::quant
