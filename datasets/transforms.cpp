#include "datasets/transforms.h"

#include <charconv>
#include <cstring>

#include "core/error.h"

namespace qnn::data {

namespace {

// An image's [C, H, W] sizes and strides, after checking it is a 3-d tensor of `dtype`.
struct Geometry {
  int64_t C, H, W;
  int64_t sc, sh, sw;
};

Geometry geometry(const Tensor& image, DType dtype, const char* op) {
  QNN_CHECK(image.defined() && image.device().is_cpu(), op,
            "got an undefined or non-CPU image (expected a CPU tensor)");
  QNN_CHECK(image.dim() == 3, op, "got an image of shape " << shape_str(image.shape()) << " (expected [C, H, W])");
  QNN_CHECK(image.dtype() == dtype, op,
            "got dtype " << image.dtype() << " (expected " << dtype
                         << (dtype == DType::Float32 ? "; put ToTensor first" : "") << ")");
  return {image.size(0), image.size(1), image.size(2), image.stride(0), image.stride(1), image.stride(2)};
}

// Shortest text that reads back as the same float ("0.4914", not "0.491400").
std::string float_text(float v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string list_text(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + float_text(v[i]);
  return s + "]";
}

}  // namespace

// ---- ToTensor -------------------------------------------------------------------------------

Tensor ToTensor::operator()(const Tensor& image, Generator&) const {
  Geometry g = geometry(image, DType::UInt8, "ToTensor");
  if (layout_ == Layout::HWC)  // read [H, W, C] as [C, H, W]: the same loop with the strides moved
    g = {g.W, g.C, g.H, g.sw, g.sc, g.sh};
  Tensor out = Tensor::empty({g.C, g.H, g.W});
  const uint8_t* src = image.data<uint8_t>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t h = 0; h < g.H; ++h)
      for (int64_t w = 0; w < g.W; ++w)
        *dst++ = static_cast<float>(src[c * g.sc + h * g.sh + w * g.sw]) / 255.0f;
  return out;
}

std::string ToTensor::describe() const { return layout_ == Layout::CHW ? "ToTensor(CHW)" : "ToTensor(HWC)"; }

// ---- Normalize ------------------------------------------------------------------------------

Normalize::Normalize(std::vector<float> mean, std::vector<float> std) : mean_(std::move(mean)), std_(std::move(std)) {
  QNN_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize",
            "got " << mean_.size() << " means and " << std_.size() << " stds (expected one of each per channel)");
  for (float s : std_)
    QNN_CHECK(s > 0.0f, "Normalize", "got std " << s << " (expected > 0)");
}

Tensor Normalize::operator()(const Tensor& image, Generator&) const {
  const Geometry g = geometry(image, DType::Float32, "Normalize");
  QNN_CHECK(g.C == static_cast<int64_t>(mean_.size()), "Normalize",
            "got an image with " << g.C << " channels (expected " << mean_.size() << ")");
  Tensor out = Tensor::empty({g.C, g.H, g.W});
  const float* src = image.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < g.C; ++c) {
    const float m = mean_[c], s = std_[c];
    for (int64_t h = 0; h < g.H; ++h)
      for (int64_t w = 0; w < g.W; ++w)
        *dst++ = (src[c * g.sc + h * g.sh + w * g.sw] - m) / s;  // a division, as torchvision: same bits
  }
  return out;
}

std::string Normalize::describe() const {
  return "Normalize(mean=" + list_text(mean_) + ", std=" + list_text(std_) + ")";
}

// ---- crops and flips ------------------------------------------------------------------------

Tensor pad_crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width, int64_t padding) {
  const Geometry g = geometry(image, DType::Float32, "pad_crop");
  QNN_CHECK(padding >= 0 && height >= 0 && width >= 0, "pad_crop",
            "got padding " << padding << ", size " << height << "x" << width << " (expected >= 0)");
  QNN_CHECK(top >= 0 && left >= 0 && top + height <= g.H + 2 * padding && left + width <= g.W + 2 * padding, "pad_crop",
            "got a " << height << "x" << width << " window at (" << top << ", " << left << ") (expected it inside the "
                     << g.H + 2 * padding << "x" << g.W + 2 * padding << " padded image)");
  Tensor out = Tensor::empty({g.C, height, width});
  const float* src = image.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t y = 0; y < height; ++y) {
      const int64_t h = top + y - padding;  // row in the unpadded image
      for (int64_t x = 0; x < width; ++x) {
        const int64_t w = left + x - padding;
        *dst++ = (h >= 0 && h < g.H && w >= 0 && w < g.W) ? src[c * g.sc + h * g.sh + w * g.sw] : 0.0f;
      }
    }
  return out;
}

Tensor hflip(const Tensor& image) {
  const Geometry g = geometry(image, DType::Float32, "hflip");
  Tensor out = Tensor::empty({g.C, g.H, g.W});
  const float* src = image.data<float>();
  float* dst = out.data<float>();
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t h = 0; h < g.H; ++h)
      for (int64_t w = g.W - 1; w >= 0; --w)
        *dst++ = src[c * g.sc + h * g.sh + w * g.sw];
  return out;
}

RandomCrop::RandomCrop(int64_t size, int64_t padding) : size_(size), padding_(padding) {
  QNN_CHECK(size > 0 && padding >= 0, "RandomCrop",
            "got size " << size << ", padding " << padding << " (expected size > 0, padding >= 0)");
}

Tensor RandomCrop::operator()(const Tensor& image, Generator& gen) const {
  const Geometry g = geometry(image, DType::Float32, "RandomCrop");
  const int64_t ph = g.H + 2 * padding_, pw = g.W + 2 * padding_;
  QNN_CHECK(ph >= size_ && pw >= size_, "RandomCrop",
            "got a " << g.H << "x" << g.W << " image with padding " << padding_ << " (expected at least " << size_
                     << "x" << size_ << " after padding)");
  int64_t top = 0, left = 0;
  if (ph != size_ || pw != size_) {
    top = gen.integer(0, ph - size_ + 1);
    left = gen.integer(0, pw - size_ + 1);
  }
  return pad_crop(image, top, left, size_, size_, padding_);
}

std::string RandomCrop::describe() const {
  return "RandomCrop(size=" + std::to_string(size_) + ", padding=" + std::to_string(padding_) + ")";
}

RandomHorizontalFlip::RandomHorizontalFlip(float p) : p_(p) {
  QNN_CHECK(p >= 0.0f && p <= 1.0f, "RandomHorizontalFlip", "got p = " << p << " (expected 0 <= p <= 1)");
}

Tensor RandomHorizontalFlip::operator()(const Tensor& image, Generator& gen) const {
  geometry(image, DType::Float32, "RandomHorizontalFlip");
  return gen.uniform() < p_ ? hflip(image) : image;
}

std::string RandomHorizontalFlip::describe() const { return "RandomHorizontalFlip(p=" + float_text(p_) + ")"; }

// ---- Compose and presets --------------------------------------------------------------------

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
  for (size_t i = 0; i < transforms_.size(); ++i)
    QNN_CHECK(transforms_[i], "Compose", "got a null transform at position " << i);
}

Tensor Compose::operator()(const Tensor& image, Generator& gen) const {
  Tensor x = image;
  for (const auto& t : transforms_)
    x = (*t)(x, gen);
  return x;
}

std::string Compose::describe() const {
  std::string s = "Compose(";
  for (size_t i = 0; i < transforms_.size(); ++i)
    s += (i ? ", " : "") + transforms_[i]->describe();
  return s + ")";
}

TransformPtr cifar_train_transform(const std::vector<float>& mean, const std::vector<float>& std) {
  return std::make_shared<Compose>(
      std::vector<TransformPtr>{std::make_shared<ToTensor>(), std::make_shared<RandomCrop>(32, 4),
                                std::make_shared<RandomHorizontalFlip>(0.5f), std::make_shared<Normalize>(mean, std)});
}

TransformPtr cifar_test_transform(const std::vector<float>& mean, const std::vector<float>& std) {
  return std::make_shared<Compose>(
      std::vector<TransformPtr>{std::make_shared<ToTensor>(), std::make_shared<Normalize>(mean, std)});
}

}  // namespace qnn::data
