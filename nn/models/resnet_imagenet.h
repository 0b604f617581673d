#pragma once
// ImageNet ResNets (He et al. 2016) as torchvision builds them, so torchvision's checkpoints load
// by name: conv1 7x7/2 (3 -> 64) + bn1 + ReLU, maxpool 3x3/2 pad 1, layer1..4 at 64/128/256/512
// planes (stride 1/2/2/2 on each stage's first block), global average pool, fc. Bottleneck puts
// the stride on its 3x3 conv (ResNet v1.5, torchvision's choice; the paper strides the first
// 1x1). Where a block changes shape its shortcut is `downsample` = Sequential(conv1x1(stride),
// BatchNorm2d), keys downsample.0.weight, downsample.1.*.
#include <memory>

#include "core/generator.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn/sequential.h"

namespace qnn::nn {

// conv3x3(stride) -> bn1 -> relu -> conv3x3 -> bn2, + shortcut, -> relu. expansion 1.
class BasicBlock : public Module {
 public:
  static constexpr int64_t expansion = 1;
  // downsample: null for the identity shortcut.
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Sequential> downsample,
             Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> downsample;
};

// conv1x1 -> bn1 -> relu -> conv3x3(stride) -> bn2 -> relu -> conv1x1 (x4) -> bn3, + shortcut,
// -> relu. expansion 4.
class Bottleneck : public Module {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Sequential> downsample,
             Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv1, conv2, conv3;
  std::shared_ptr<BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<Sequential> downsample;
};

enum class ResNetBlock { Basic, Bottleneck };

class ResNet : public Module {
 public:
  // layers: blocks per stage ({2, 2, 2, 2} ResNet-18, {3, 4, 6, 3} ResNet-34/50, ...).
  // Initialization as torchvision: every conv weight ~ kaiming_normal_(fan_out, relu), i.e.
  // N(0, 2 / (out_channels * k * k)); BN weight 1, bias 0; fc keeps nn::Linear's PyTorch default.
  ResNet(ResNetBlock block, const std::vector<int64_t>& layers, int64_t num_classes = 1000,
         Generator& gen = default_generator());
  // x [N, 3, H, W] (224x224 for ImageNet; any H, W >= 1 works, the pool is adaptive) ->
  // logits [N, num_classes].
  Tensor forward(const Tensor& x) override;

  ResNetBlock block;
  int64_t num_classes;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<MaxPool2d> maxpool;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<AdaptiveAvgPool2d> avgpool;
  std::shared_ptr<Linear> fc;
};

}  // namespace qnn::nn
