#pragma once
// Image transforms, composable, on one image at a time. An image is a [C, H, W] tensor: uint8
// before ToTensor, float32 after. Random transforms draw from the Generator they are given (the
// DataLoader gives each sample its own), in a documented order, so a seed fixes the augmentation.
// The semantics follow torchvision's (ToTensor divides by 255, RandomCrop pads with zeros then
// draws the top then the left offset, RandomHorizontalFlip flips when uniform() < p), so a recipe
// written for PyTorch means the same here.
//
// The kernels are plain loops on contiguous memory: they run in DataLoader worker threads, where
// the OpenMP-parallel tensor ops would start one thread team per worker.
#include <memory>
#include <string>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace qnn::data {

class Transform {
 public:
  virtual ~Transform() = default;
  virtual Tensor operator()(const Tensor& image, Generator& gen) const = 0;
  // E.g. "RandomCrop(size=32, padding=4)": what a run records about its data pipeline.
  virtual std::string describe() const = 0;
};
using TransformPtr = std::shared_ptr<const Transform>;

enum class Layout { CHW, HWC };

// uint8 [C, H, W] (or [H, W, C] with Layout::HWC, as image decoders return) -> float32 [C, H, W]
// in [0, 1]: x / 255.
class ToTensor : public Transform {
 public:
  explicit ToTensor(Layout layout = Layout::CHW) : layout_(layout) {}
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  Layout layout_;
};

// (x - mean[c]) / std[c] per channel, in float32 as torchvision computes it.
class Normalize : public Transform {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  std::vector<float> mean_, std_;
};

// Pads each side with `padding` zeros, then takes a size x size window at a uniformly drawn
// (top, left): top = gen.integer(0, H + 2p - size + 1), then left likewise. Nothing is drawn when
// the window fits exactly (torchvision does the same).
class RandomCrop : public Transform {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  int64_t size_, padding_;
};

// Mirrors left-right when gen.uniform() < p (one draw per image).
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(float p = 0.5f);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  float p_;
};

// Applies its transforms in order.
class Compose : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;  // "Compose(ToTensor(CHW), Normalize(...))"
  const std::vector<TransformPtr>& transforms() const { return transforms_; }

 private:
  std::vector<TransformPtr> transforms_;
};

// The deterministic kernels under the random transforms, float32 [C, H, W] in and out.
// pad_crop: the height x width window at (top, left) of the image padded by `padding` zeros
// on every side; requires 0 <= top <= H + 2 padding - height, likewise for left.
Tensor pad_crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width, int64_t padding);
Tensor hflip(const Tensor& image);

// Per-channel (R, G, B) statistics. CIFAR-10's are of its 50,000 training images
// (shared/data/SOURCES.md section 1); the ImageNet ones are what the akamaster CIFAR ResNets
// were trained with (shared/data/pretrained/SOURCE.md).
inline const std::vector<float> kCifar10Mean = {0.49139968f, 0.48215841f, 0.44653091f};
inline const std::vector<float> kCifar10Std = {0.24703223f, 0.24348513f, 0.26158784f};
inline const std::vector<float> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline const std::vector<float> kImageNetStd = {0.229f, 0.224f, 0.225f};

// The standard CIFAR recipes, for uint8 CHW input:
//   train: ToTensor, RandomCrop(32, padding 4), RandomHorizontalFlip(0.5), Normalize(mean, std)
//   test:  ToTensor, Normalize(mean, std)
TransformPtr cifar_train_transform(const std::vector<float>& mean = kCifar10Mean,
                                   const std::vector<float>& std = kCifar10Std);
TransformPtr cifar_test_transform(const std::vector<float>& mean = kCifar10Mean,
                                  const std::vector<float>& std = kCifar10Std);

}  // namespace qnn::data
