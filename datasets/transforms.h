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
#include <utility>
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

// ---- ImageNet-style geometry, on uint8 images ----------------------------------------------
// torchvision's ImageNet recipes run Resize / CenterCrop / RandomResizedCrop on PIL images, i.e.
// on 8-bit pixels, before ToTensor. These do the same, on uint8 [C, H, W] tensors of any strides
// (ImageFolder hands out its decoded HWC buffer viewed as CHW), and give the same bytes as Pillow
// 9.4's BILINEAR resampling: Pillow's filter is a triangle widened by the scale factor when
// downscaling (antialiasing), with coefficients in 22-bit fixed point, a horizontal pass rounded
// to 8 bits, then a vertical pass (tests/datasets/test_imagenet_transforms.cpp checks it byte
// for byte). torchvision's tensor Resize (antialias=False in 0.14) would differ from both.

// The (height, width) torchvision's Resize(size) gives an H x W image: the shorter side becomes
// `size`, the longer int(size * longer / shorter) (truncated, as Python's int()).
std::pair<int64_t, int64_t> shorter_side_size(int64_t H, int64_t W, int64_t size);

// Bilinear resampling of a uint8 [C, H, W] image to [C, out_h, out_w], as Pillow's
// Image.resize(..., BILINEAR); the result is contiguous. An output of more than
// max_image_pixels() pixels (datasets/pixel_limit.h) is refused before it is allocated.
Tensor resize_bilinear(const Tensor& image, int64_t out_h, int64_t out_w);

// The height x width window at (top, left) of a uint8 or float32 [C, H, W] image, zero where it
// falls outside the image (as PIL's crop). A copy, contiguous.
Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width);

// Resize(size): the shorter side to `size` (shorter_side_size), bilinear. uint8 in and out. The
// output is bounded by the image pixel limit: a 1 x 60000 strip with size 256 would become
// 256 x 15,360,000 (11.8 GB), and is refused with both sizes in the message.
class Resize : public Transform {
 public:
  explicit Resize(int64_t size);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  int64_t size_;
};

// CenterCrop(size) or CenterCrop(height, width): the window at top = round((H - height) / 2),
// left = round((W - width) / 2) with Python's round (half to even), zero-padded first when the
// image is smaller, as torchvision. uint8 or float32.
class CenterCrop : public Transform {
 public:
  explicit CenterCrop(int64_t size) : CenterCrop(size, size) {}
  CenterCrop(int64_t height, int64_t width);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  int64_t height_, width_;
};

// The window RandomResizedCrop takes from an H x W image (torchvision's get_params): up to 10
// tries of area fraction s = scale_min + (scale_max - scale_min) u1 and aspect ratio
// r = exp(log ratio_min + (log ratio_max - log ratio_min) u2), w = round(sqrt(s H W r)),
// h = round(sqrt(s H W / r)); the first window that fits draws top = gen.integer(0, H - h + 1),
// then left = gen.integer(0, W - w + 1). If none fits: the central crop of the whole image
// clamped to the ratio range. Draws u1, u2 per try with gen.uniform(), in that order.
struct CropBox {
  int64_t top, left, height, width;
};
CropBox random_resized_crop_box(int64_t H, int64_t W, float scale_min, float scale_max, float ratio_min,
                                float ratio_max, Generator& gen);

// RandomResizedCrop(size, scale = [0.08, 1], ratio = [3/4, 4/3]): a random_resized_crop_box
// window, cropped then resized to size x size (bilinear), as torchvision's resized_crop on PIL.
// uint8 in and out.
class RandomResizedCrop : public Transform {
 public:
  explicit RandomResizedCrop(int64_t size, float scale_min = 0.08f, float scale_max = 1.0f,
                             float ratio_min = 3.0f / 4.0f, float ratio_max = 4.0f / 3.0f);
  Tensor operator()(const Tensor& image, Generator& gen) const override;
  std::string describe() const override;

 private:
  int64_t size_;
  float scale_min_, scale_max_, ratio_min_, ratio_max_;
};

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

// The standard ImageNet recipes (torchvision's reference scripts), for uint8 CHW input:
//   train: RandomResizedCrop(224), ToTensor, RandomHorizontalFlip(0.5), Normalize(mean, std)
//          (the flip after ToTensor: the same pixels and the same draws as flipping before)
//   eval:  Resize(256), CenterCrop(224), ToTensor, Normalize(mean, std)
TransformPtr imagenet_train_transform(const std::vector<float>& mean = kImageNetMean,
                                      const std::vector<float>& std = kImageNetStd, int64_t crop = 224);
TransformPtr imagenet_eval_transform(const std::vector<float>& mean = kImageNetMean,
                                     const std::vector<float>& std = kImageNetStd, int64_t resize = 256,
                                     int64_t crop = 224);

}  // namespace qnn::data
