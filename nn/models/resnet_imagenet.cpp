#include "nn/models/resnet_imagenet.h"

#include "core/ops/elementwise.h"
#include "core/ops/unary.h"
#include "nn/init.h"

namespace qnn::nn {
namespace {

std::shared_ptr<Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride, Generator& gen) {
  return std::make_shared<Conv2d>(in, out, 3, Conv2dArgs{.stride = stride, .padding = 1, .bias = false}, gen);
}

std::shared_ptr<Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride, Generator& gen) {
  return std::make_shared<Conv2d>(in, out, 1, Conv2dArgs{.stride = stride, .bias = false}, gen);
}

}  // namespace

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Sequential> ds, Generator& gen)
    : Module("BasicBlock") {
  conv1 = register_module("conv1", conv3x3(inplanes, planes, stride, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1, gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  if (ds)
    downsample = register_module("downsample", std::move(ds));
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  return relu(add(out, downsample ? downsample->forward(x) : x));
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, std::shared_ptr<Sequential> ds, Generator& gen)
    : Module("Bottleneck") {
  // torchvision's width = planes * (base_width / 64) * groups = planes for plain ResNets.
  conv1 = register_module("conv1", conv1x1(inplanes, planes, 1, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, stride, gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  conv3 = register_module("conv3", conv1x1(planes, planes * expansion, 1, gen));
  bn3 = register_module("bn3", std::make_shared<BatchNorm2d>(planes * expansion));
  if (ds)
    downsample = register_module("downsample", std::move(ds));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = relu(bn1->forward(conv1->forward(x)));
  out = relu(bn2->forward(conv2->forward(out)));
  out = bn3->forward(conv3->forward(out));
  return relu(add(out, downsample ? downsample->forward(x) : x));
}

ResNet::ResNet(ResNetBlock block_, const std::vector<int64_t>& layers, int64_t classes, Generator& gen)
    : Module("ResNet"), block(block_), num_classes(classes) {
  QNN_CHECK(layers.size() == 4 && layers[0] > 0 && layers[1] > 0 && layers[2] > 0 && layers[3] > 0, "ResNet",
            "got " << layers.size() << " stages (expected 4 stages of at least one block each)");
  QNN_CHECK(classes > 0, "ResNet", "got num_classes " << classes << " (expected > 0)");
  const int64_t expansion = block == ResNetBlock::Basic ? BasicBlock::expansion : Bottleneck::expansion;
  conv1 = register_module(
      "conv1", std::make_shared<Conv2d>(3, 64, 7, Conv2dArgs{.stride = 2, .padding = 3, .bias = false}, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(64));
  maxpool = register_module("maxpool", std::make_shared<MaxPool2d>(3, 2, 1));
  int64_t inplanes = 64;
  // torchvision's _make_layer: the first block takes the stride and, where the shape changes, the
  // projection shortcut; the rest map planes * expansion to itself.
  auto make_layer = [&](const char* name, int64_t planes, int64_t blocks, int64_t stride) {
    auto layer = register_module(name, std::make_shared<Sequential>());
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t s = b == 0 ? stride : 1;
      std::shared_ptr<Sequential> ds;
      if (b == 0 && (stride != 1 || inplanes != planes * expansion)) {
        ds = std::make_shared<Sequential>();
        ds->push_back(conv1x1(inplanes, planes * expansion, stride, gen));
        ds->push_back(std::make_shared<BatchNorm2d>(planes * expansion));
      }
      if (block == ResNetBlock::Basic)
        layer->push_back(std::make_shared<BasicBlock>(inplanes, planes, s, ds, gen));
      else
        layer->push_back(std::make_shared<Bottleneck>(inplanes, planes, s, ds, gen));
      inplanes = planes * expansion;
    }
    return layer;
  };
  layer1 = make_layer("layer1", 64, layers[0], 1);
  layer2 = make_layer("layer2", 128, layers[1], 2);
  layer3 = make_layer("layer3", 256, layers[2], 2);
  layer4 = make_layer("layer4", 512, layers[3], 2);
  avgpool = register_module("avgpool", std::make_shared<AdaptiveAvgPool2d>(1));
  fc = register_module("fc", std::make_shared<Linear>(512 * expansion, classes, true, gen));
  // torchvision's loop over self.modules(): kaiming_normal_(mode="fan_out", nonlinearity="relu")
  // on every Conv2d; BatchNorm weight 1 / bias 0 is already the default; zero_init_residual off.
  apply([&](Module& m) {
    if (auto* conv = dynamic_cast<Conv2d*>(&m))
      init::kaiming_normal_(conv->weight, 0.0, init::FanMode::FanOut, "relu", gen);
  });
}

Tensor ResNet::forward(const Tensor& x) {
  QNN_CHECK(x.dim() == 4 && x.size(1) == 3, "ResNet",
            "got input " << shape_str(x.shape()) << " (expected [N, 3, H, W])");
  Tensor out = maxpool->forward(relu(bn1->forward(conv1->forward(x))));
  out = layer4->forward(layer3->forward(layer2->forward(layer1->forward(out))));
  return fc->forward(avgpool->forward(out).flatten(1));
}

}  // namespace qnn::nn
