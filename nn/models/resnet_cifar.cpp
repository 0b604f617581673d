#include "nn/models/resnet_cifar.h"

#include "core/ops/elementwise.h"
#include "core/ops/pool.h"
#include "core/ops/unary.h"
#include "nn/identity.h"
#include "nn/init.h"

namespace qnn::nn {

Tensor ShortcutA::forward(const Tensor& x) {
  QNN_CHECK(x.dim() == 4, "ShortcutA", "got input " << shape_str(x.shape()) << " (expected [N, C, H, W])");
  // x[:, :, ::2, ::2], then F.pad(..., (0, 0, 0, 0, p, p)): pads run from the last dim backwards.
  const Tensor sub = x.slice(2, 0, x.size(2), 2).slice(3, 0, x.size(3), 2);
  return pad(sub, {0, 0, 0, 0, pad_channels, pad_channels});
}

BasicBlockCifar::BasicBlockCifar(int64_t in_planes, int64_t planes, int64_t stride, Generator& gen)
    : Module("BasicBlock") {
  conv1 = register_module(
      "conv1",
      std::make_shared<Conv2d>(in_planes, planes, 3, Conv2dArgs{.stride = stride, .padding = 1, .bias = false}, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2",
                          std::make_shared<Conv2d>(planes, planes, 3, Conv2dArgs{.padding = 1, .bias = false}, gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  if (stride != 1 || in_planes != planes) {
    QNN_CHECK(stride == 2 && planes == 2 * in_planes, "BasicBlockCifar",
              "got " << in_planes << " -> " << planes << " planes at stride " << stride
                     << " (expected option A's doubling: planes = 2 * in_planes at stride 2)");
    shortcut = register_module("shortcut", std::make_shared<ShortcutA>(planes / 4));
  } else {
    shortcut = register_module("shortcut", std::make_shared<Identity>());
  }
}

Tensor BasicBlockCifar::forward(const Tensor& x) {
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  return relu(add(out, shortcut->forward(x)));
}

ResNetCifar::ResNetCifar(int64_t depth_, int64_t classes, Generator& gen)
    : Module("ResNet"), depth(depth_), num_classes(classes) {
  QNN_CHECK(depth >= 8 && (depth - 2) % 6 == 0, "ResNetCifar",
            "got depth " << depth << " (expected 6n + 2 with n >= 1: 20, 32, 44, 56, 110, ...)");
  QNN_CHECK(classes > 0, "ResNetCifar", "got num_classes " << classes << " (expected > 0)");
  const int64_t blocks = (depth - 2) / 6;
  conv1 = register_module("conv1", std::make_shared<Conv2d>(3, 16, 3, Conv2dArgs{.padding = 1, .bias = false}, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(16));
  int64_t in_planes = 16;
  auto make_layer = [&](const char* name, int64_t planes, int64_t stride) {
    auto layer = register_module(name, std::make_shared<Sequential>());
    for (int64_t b = 0; b < blocks; ++b) {
      layer->push_back(std::make_shared<BasicBlockCifar>(in_planes, planes, b == 0 ? stride : 1, gen));
      in_planes = planes;
    }
    return layer;
  };
  layer1 = make_layer("layer1", 16, 1);
  layer2 = make_layer("layer2", 32, 2);
  layer3 = make_layer("layer3", 64, 2);
  linear = register_module("linear", std::make_shared<Linear>(64, classes, true, gen));
  // akamaster's _weights_init, applied after construction (as self.apply does): kaiming_normal_
  // on every Conv2d and Linear weight, biases left at their defaults.
  apply([&](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m))
      init::kaiming_normal_(conv->weight, 0.0, init::FanMode::FanIn, "leaky_relu", gen);
    else if (auto* lin = dynamic_cast<Linear*>(&m))
      init::kaiming_normal_(lin->weight, 0.0, init::FanMode::FanIn, "leaky_relu", gen);
  });
}

Tensor ResNetCifar::forward(const Tensor& x) {
  QNN_CHECK(x.dim() == 4 && x.size(1) == 3, "ResNetCifar",
            "got input " << shape_str(x.shape()) << " (expected [N, 3, H, W])");
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = layer3->forward(layer2->forward(layer1->forward(out)));
  // F.avg_pool2d(out, out.size()[3]) then view(N, -1), as akamaster: the global 8x8 average for
  // 32x32 input.
  out = avg_pool2d(out, {out.size(3), out.size(3)});
  return linear->forward(out.flatten(1));
}

}  // namespace qnn::nn
