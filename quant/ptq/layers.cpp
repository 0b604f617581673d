#include "quant/ptq/layers.h"

#include "core/autograd.h"
#include "core/error.h"

namespace qnn::quant {

namespace {

QuantLayer as_layer(const std::string& name, const std::shared_ptr<nn::Module>& module) {
  QuantLayer layer{name, module};
  layer.conv = dynamic_cast<nn::Conv2d*>(module.get());
  layer.linear = dynamic_cast<nn::Linear*>(module.get());
  return layer;
}

// Thrown by the capture hook to stop the forward once the input has been seen.
struct CaptureDone {};

}  // namespace

std::vector<QuantLayer> quantizable_layers(nn::Module& model) {
  std::vector<QuantLayer> out;
  for (const auto& [name, module] : model.named_modules()) {
    QuantLayer layer = as_layer(name, module);
    if (layer.conv || layer.linear)
      out.push_back(layer);
  }
  QNN_CHECK(
      !out.empty(), "quantizable_layers",
      "the model (" << model.type_name() << ") has no Conv2d or Linear layer (expected at least one to quantize)");
  return out;
}

QuantLayer find_layer(nn::Module& model, const std::string& name) {
  for (const auto& layer : quantizable_layers(model))
    if (layer.name == name)
      return layer;
  throw Error("find_layer: the model has no Conv2d or Linear called '" + name + "'");
}

Tensor capture_input(nn::Module& model, const QuantLayer& layer, const Tensor& batch) {
  Tensor captured;
  auto hook = [&captured](const Tensor& x) {
    captured = x;
    throw CaptureDone{};
  };
  auto& slot = layer.conv ? layer.conv->input_hook : layer.linear->input_hook;
  slot = hook;
  try {
    NoGradGuard no_grad;
    model.forward(batch);
  } catch (const CaptureDone&) {
  } catch (...) {
    slot = nullptr;
    throw;
  }
  slot = nullptr;
  QNN_CHECK(captured.defined(), "capture_input",
            "layer '" << layer.name << "' was not reached by the model's forward (expected every layer to be used)");
  return captured;
}

double weight_sparsity(nn::Module& model) {
  int64_t zeros = 0, total = 0;
  for (const auto& layer : quantizable_layers(model))
    for (const Tensor& t : {layer.weight(), layer.bias()}) {
      if (!t.defined())
        continue;
      for (float v : t.contiguous().to_vector<float>())
        zeros += (v == 0.0f);
      total += t.numel();
    }
  return total > 0 ? static_cast<double>(zeros) / static_cast<double>(total) : 0.0;
}

}  // namespace qnn::quant
