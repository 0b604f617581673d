#pragma once
// CIFAR ResNet-(6n+2) of He et al. 2016 (sec. 4.2), as akamaster/pytorch_resnet_cifar10 builds it,
// so its pretrained checkpoints load by name: conv1 3x3 3->16 + bn1 + ReLU; layer1..3 of n
// BasicBlocks at 16/32/64 channels (stride 1/2/2 on each stage's first block); global average
// pool; linear 64 -> num_classes. Shortcuts are option A (parameter-free): where the shape
// changes, x[:, :, ::2, ::2] zero-padded by planes/4 channels on each side.
#include "core/generator.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/sequential.h"

namespace qnn::nn {

// The option-A shortcut: subsample by 2 in H and W, then pad channels with pad_channels zeros on
// each side (16 -> 8 + 16 + 8 for planes = 32).
class ShortcutA : public Module {
 public:
  explicit ShortcutA(int64_t pad_channels) : Module("ShortcutA"), pad_channels(pad_channels) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override { return "pad_channels=" + std::to_string(pad_channels); }

  int64_t pad_channels;
};

// conv3x3(stride) -> bn -> relu -> conv3x3 -> bn, + shortcut(x), -> relu.
class BasicBlockCifar : public Module {
 public:
  BasicBlockCifar(int64_t in_planes, int64_t planes, int64_t stride, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  ModulePtr shortcut;  // Identity, or ShortcutA where the shape changes
};

class ResNetCifar : public Module {
 public:
  // depth = 6n + 2 (20, 32, 44, 56, 110, 1202, ...). Conv and linear weights are drawn with
  // kaiming_normal_ (fan_in, gain sqrt(2)) as akamaster's _weights_init; the linear bias keeps
  // PyTorch's default U(-1/8, 1/8); BN weight 1, bias 0.
  ResNetCifar(int64_t depth, int64_t num_classes = 10, Generator& gen = default_generator());
  // x [N, 3, H, W] (32x32 for CIFAR) -> logits [N, num_classes].
  Tensor forward(const Tensor& x) override;

  int64_t depth, num_classes;
  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1, layer2, layer3;
  std::shared_ptr<Linear> linear;
};

}  // namespace qnn::nn
