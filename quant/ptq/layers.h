#pragma once
// The layers a post-training pass quantizes, and how it reads their inputs.
//
// Every Conv2d and Linear of a model, first and last included (GPFQ quantizes them all, P2
// section 5.2.2), in registration order. Registration order is an order in which each layer
// comes after everything upstream of it for the models of nn/models (ResNets register the
// shortcut after the block's main path, which only consumes the block input; DeiT registers
// patch embedding, blocks, head), which is what Algorithm 1 needs in a network that is not a chain
// (the papers leave the order open; the authors' code walks the modules in registration order). A
// layer's input is captured where the layer consumes it, by a hook on the layer, while the whole
// model runs; the forward stops right after the capture.
#include <memory>
#include <string>
#include <vector>

#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace qnn::quant {

struct QuantLayer {
  std::string name;  // module path, e.g. "layer1.0.conv1"; its weight is "<name>.weight"
  std::shared_ptr<nn::Module> module;
  nn::Conv2d* conv = nullptr;  // exactly one of conv / linear is set
  nn::Linear* linear = nullptr;
  Tensor weight() const { return conv ? conv->weight : linear->weight; }
  Tensor bias() const { return conv ? conv->bias : linear->bias; }
  const char* kind() const { return conv ? "Conv2d" : "Linear"; }
};

// Throws qnn::Error when the model has no Conv2d or Linear.
std::vector<QuantLayer> quantizable_layers(nn::Module& model);

// The layer of `model` called `name` (a module path). Throws when there is none.
QuantLayer find_layer(nn::Module& model, const std::string& name);

// The input `layer` receives when `model` (in eval mode, no gradients) runs on `batch`. The
// forward stops right after the layer's input is seen.
Tensor capture_input(nn::Module& model, const QuantLayer& layer, const Tensor& batch);

// Fraction of exactly-zero values over the weights and biases of every Conv2d and Linear (how
// the authors' code reports sparsity).
double weight_sparsity(nn::Module& model);

}  // namespace qnn::quant
