#include "datasets/transforms.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "datasets/pixel_limit.h"

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

// ---- resampling (Pillow's BILINEAR) --------------------------------------------------------

namespace {

// Pillow keeps filter weights in fixed point with 32 - 8 - 2 fraction bits: 8 bits for the pixel,
// 2 spare for sums of weights that overshoot 1.
constexpr int kPrecisionBits = 22;

// One axis of a separable resampling: output index o reads inputs first[o] .. first[o] + count[o]
// - 1 with the fixed-point weights weight[o * ksize + k].
struct Taps {
  int64_t ksize = 0;
  std::vector<int64_t> first, count;
  std::vector<int32_t> weight;
};

// Pillow's precompute_coeffs for the triangle filter (support 1), for the whole axis. When
// downscaling by s = in / out > 1 the triangle is stretched to support s and its argument divided
// by s: each output averages all the inputs it covers (antialiasing), not just the 2 nearest.
Taps bilinear_taps(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;                // triangle support 1, stretched
  const double inv_filterscale = 1.0 / filterscale;  // Pillow multiplies by it: same bits
  Taps t;
  t.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weight.assign(out_size * t.ksize, 0);
  std::vector<double> w(t.ksize);
  for (int64_t o = 0; o < out_size; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    // The window rounds center -/+ support to the nearest index; the casts truncate toward zero,
    // as Pillow's (int) casts do.
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    const int64_t n = hi - lo;
    double sum = 0.0;
    for (int64_t k = 0; k < n; ++k) {
      const double x = std::abs((static_cast<double>(k + lo) - center + 0.5) * inv_filterscale);
      w[k] = x < 1.0 ? 1.0 - x : 0.0;
      sum += w[k];
    }
    for (int64_t k = 0; k < n; ++k) {
      const double v = sum != 0.0 ? w[k] / sum : w[k];
      // Round half away from zero into fixed point (the weights are >= 0 here).
      t.weight[o * t.ksize + k] = static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    t.first[o] = lo;
    t.count[o] = n;
  }
  return t;
}

// A fixed-point sum back to a byte: Pillow adds half an output unit first (the accumulator starts
// at 1 << 21), then shifts and clamps.
inline uint8_t clip8(int32_t acc) { return static_cast<uint8_t>(std::clamp(acc >> kPrecisionBits, 0, 255)); }

// Pass 1 of resize_bilinear: rows row0 .. row0 + rows - 1 of src resampled along the width into
// dst [C, rows, out_w], rounded to bytes. Channels innermost, so an interleaved (HWC) source is
// read in order. NC = the channel count when known at compile time, else 0.
template <int NC>
void horizontal_pass(const Geometry& g, const uint8_t* src, int64_t row0, int64_t rows, const Taps& th, int64_t out_w,
                     uint8_t* dst) {
  const int64_t C = NC ? NC : g.C;
  std::vector<int32_t> acc_store(NC ? 0 : C);
  int32_t* acc = acc_store.data();
  int32_t fixed[NC ? NC : 1];
  if (NC)
    acc = fixed;
  for (int64_t y = 0; y < rows; ++y) {
    const uint8_t* row = src + (row0 + y) * g.sh;
    for (int64_t o = 0; o < out_w; ++o) {
      const int32_t* k = th.weight.data() + o * th.ksize;
      const int64_t n = th.count[o];
      const uint8_t* p = row + th.first[o] * g.sw;
      for (int64_t c = 0; c < C; ++c)
        acc[c] = 1 << (kPrecisionBits - 1);
      for (int64_t i = 0; i < n; ++i, p += g.sw)
        for (int64_t c = 0; c < C; ++c)
          acc[c] += static_cast<int32_t>(p[c * g.sc]) * k[i];
      for (int64_t c = 0; c < C; ++c)
        dst[(c * rows + y) * out_w + o] = clip8(acc[c]);
    }
  }
}

}  // namespace

std::pair<int64_t, int64_t> shorter_side_size(int64_t H, int64_t W, int64_t size) {
  QNN_CHECK(H > 0 && W > 0 && size > 0, "Resize",
            "got a " << H << "x" << W << " image and size " << size << " (expected positive sizes)");
  QNN_CHECK(size <= std::numeric_limits<int64_t>::max() / std::max(H, W), "Resize",
            "got a " << H << "x" << W << " image and size " << size << " (expected size * " << std::max(H, W)
                     << " to fit in 64 bits)");
  // Python's int(size * long / short): the product exact, one correctly rounded division, then
  // truncation; doubles do the same for any image size that fits in memory.
  const auto longer = [&](int64_t lng, int64_t shrt) {
    return static_cast<int64_t>(static_cast<double>(size * lng) / static_cast<double>(shrt));
  };
  if (W <= H)
    return {longer(H, W), size};
  return {size, longer(W, H)};
}

namespace {
// Refuses an output beyond the image pixel limit before anything is allocated.
void check_resize_pixels(const char* op, int64_t H, int64_t W, int64_t out_h, int64_t out_w) {
  QNN_CHECK(within_pixel_limit(out_h, out_w), op,
            "a " << H << "x" << W << " (height x width) image would become " << out_h << "x" << out_w << ", "
                 << pixel_count_text(out_h, out_w) << " pixels, more than the limit of " << max_image_pixels()
                 << " (set_max_image_pixels; expected an output of at most that many pixels)");
}
}  // namespace

Tensor resize_bilinear(const Tensor& image, int64_t out_h, int64_t out_w) {
  const Geometry g = geometry(image, DType::UInt8, "resize_bilinear");
  QNN_CHECK(
      out_h > 0 && out_w > 0 && g.H > 0 && g.W > 0, "resize_bilinear",
      "got a " << g.H << "x" << g.W << " image resized to " << out_h << "x" << out_w << " (expected positive sizes)");
  check_resize_pixels("resize_bilinear", g.H, g.W, out_h, out_w);
  const uint8_t* src = image.data<uint8_t>();
  Tensor out = Tensor::empty({g.C, out_h, out_w}, DType::UInt8);
  uint8_t* dst = out.data<uint8_t>();
  const bool horizontal = out_w != g.W, vertical = out_h != g.H;
  if (!horizontal && !vertical) {  // Pillow returns a copy
    for (int64_t c = 0; c < g.C; ++c)
      for (int64_t h = 0; h < g.H; ++h)
        for (int64_t w = 0; w < g.W; ++w)
          *dst++ = src[c * g.sc + h * g.sh + w * g.sw];
    return out;
  }
  const Taps tv = bilinear_taps(g.H, out_h);
  // Pass 1, horizontal, into 8-bit rows (Pillow rounds between the passes), over only the rows the
  // vertical pass will read.
  const int64_t row0 = vertical ? tv.first.front() : 0;
  const int64_t rows = vertical ? tv.first.back() + tv.count.back() - row0 : g.H;
  std::vector<uint8_t> mid;
  const uint8_t* vsrc = src;  // what the vertical pass reads, with its strides
  int64_t vc = g.sc, vh = g.sh, vw = g.sw;
  if (horizontal) {
    const Taps th = bilinear_taps(g.W, out_w);
    uint8_t* hdst = dst;
    if (vertical) {
      // The rows pass 1 makes (input rows x output width): within the limit for any resize that
      // keeps the aspect ratio, but not for every pair of sizes.
      QNN_CHECK(within_pixel_limit(rows, out_w), "resize_bilinear",
                "a " << g.H << "x" << g.W << " (height x width) image resized to " << out_h << "x" << out_w << " needs "
                     << rows << "x" << out_w << " intermediate rows, " << pixel_count_text(rows, out_w)
                     << " pixels, more than the limit of " << max_image_pixels()
                     << " (set_max_image_pixels; expected at most that many)");
      mid.resize(g.C * rows * out_w);
      hdst = mid.data();
    }
    if (g.C == 3)  // RGB: the channel count known at compile time keeps the sums in registers
      horizontal_pass<3>(g, src, row0, rows, th, out_w, hdst);
    else
      horizontal_pass<0>(g, src, row0, rows, th, out_w, hdst);
    if (!vertical)
      return out;
    vsrc = mid.data();
    vc = rows * out_w, vh = out_w, vw = 1;
  } else {
    vsrc = src + row0 * g.sh;
  }
  // Pass 2, vertical: a whole output row at once, tap by tap, so the inner loop runs along a
  // contiguous row (vectorized) when the source rows are contiguous. Integer sums: the order of
  // the additions does not change the result.
  std::vector<int32_t> acc(out_w);
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t o = 0; o < out_h; ++o) {
      const int32_t* k = tv.weight.data() + o * tv.ksize;
      const int64_t n = tv.count[o];
      std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* row = vsrc + c * vc + (tv.first[o] - row0 + i) * vh;
        const int32_t ki = k[i];
        int32_t* a = acc.data();
        if (vw == 1)
          for (int64_t x = 0; x < out_w; ++x)
            a[x] += static_cast<int32_t>(row[x]) * ki;
        else
          for (int64_t x = 0; x < out_w; ++x)
            a[x] += static_cast<int32_t>(row[x * vw]) * ki;
      }
      for (int64_t x = 0; x < out_w; ++x)
        *dst++ = clip8(acc[x]);
    }
  return out;
}

namespace {
template <class T>
void crop_kernel(const Geometry& g, const T* src, T* dst, int64_t top, int64_t left, int64_t height, int64_t width) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t y = 0; y < height; ++y) {
      const int64_t h = top + y;
      for (int64_t x = 0; x < width; ++x) {
        const int64_t w = left + x;
        *dst++ = (h >= 0 && h < g.H && w >= 0 && w < g.W) ? src[c * g.sc + h * g.sh + w * g.sw] : T(0);
      }
    }
}
}  // namespace

Tensor crop(const Tensor& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  QNN_CHECK(image.defined(), "crop", "got an undefined image");
  QNN_CHECK(image.dtype() == DType::UInt8 || image.dtype() == DType::Float32, "crop",
            "got dtype " << image.dtype() << " (expected uint8 or float32)");
  const Geometry g = geometry(image, image.dtype(), "crop");
  QNN_CHECK(height > 0 && width > 0, "crop", "got a " << height << "x" << width << " window (expected positive sizes)");
  Tensor out = Tensor::empty({g.C, height, width}, image.dtype());
  if (image.dtype() == DType::UInt8)
    crop_kernel(g, image.data<uint8_t>(), out.data<uint8_t>(), top, left, height, width);
  else
    crop_kernel(g, image.data<float>(), out.data<float>(), top, left, height, width);
  return out;
}

Resize::Resize(int64_t size) : size_(size) { QNN_CHECK(size > 0, "Resize", "got size " << size << " (expected > 0)"); }

Tensor Resize::operator()(const Tensor& image, Generator&) const {
  const Geometry g = geometry(image, DType::UInt8, "Resize");
  const auto [h, w] = shorter_side_size(g.H, g.W, size_);
  check_resize_pixels(describe().c_str(), g.H, g.W, h, w);
  return resize_bilinear(image, h, w);
}

std::string Resize::describe() const { return "Resize(size=" + std::to_string(size_) + ", bilinear)"; }

CenterCrop::CenterCrop(int64_t height, int64_t width) : height_(height), width_(width) {
  QNN_CHECK(height > 0 && width > 0, "CenterCrop", "got size " << height << "x" << width << " (expected > 0)");
}

Tensor CenterCrop::operator()(const Tensor& image, Generator&) const {
  QNN_CHECK(image.defined() && image.dim() == 3, "CenterCrop", "got an image that is not [C, H, W]");
  const auto offset = [](int64_t n, int64_t size) -> int64_t {
    // Smaller than the crop: torchvision pads (size - n) / 2 zeros before (floor), the rest after.
    if (n < size)
      return -((size - n) / 2);
    // round((n - size) / 2.0) with Python's round, half to even: 4.5 -> 4, 5.5 -> 6.
    const int64_t d = n - size, half = d / 2;
    return half + ((d % 2 == 1 && half % 2 == 1) ? 1 : 0);
  };
  return crop(image, offset(image.size(1), height_), offset(image.size(2), width_), height_, width_);
}

std::string CenterCrop::describe() const {
  return height_ == width_ ? "CenterCrop(size=" + std::to_string(height_) + ")"
                           : "CenterCrop(size=" + std::to_string(height_) + "x" + std::to_string(width_) + ")";
}

CropBox random_resized_crop_box(int64_t H, int64_t W, float scale_min, float scale_max, float ratio_min,
                                float ratio_max, Generator& gen) {
  QNN_CHECK(H > 0 && W > 0, "RandomResizedCrop", "got a " << H << "x" << W << " image (expected positive sizes)");
  const double area = static_cast<double>(H) * static_cast<double>(W);
  const double log_lo = std::log(static_cast<double>(ratio_min)), log_hi = std::log(static_cast<double>(ratio_max));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (scale_min + (scale_max - scale_min) * static_cast<double>(gen.uniform()));
    const double aspect = std::exp(log_lo + (log_hi - log_lo) * static_cast<double>(gen.uniform()));
    // Python's round is half to even, as nearbyint in the default rounding mode.
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(target * aspect)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(target / aspect)));
    if (0 < w && w <= W && 0 < h && h <= H) {
      const int64_t top = gen.integer(0, H - h + 1);
      const int64_t left = gen.integer(0, W - w + 1);
      return {top, left, h, w};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed aspect ratio, centred.
  const double in_ratio = static_cast<double>(W) / static_cast<double>(H);
  int64_t w = W, h = H;
  if (in_ratio < ratio_min)
    h = static_cast<int64_t>(std::nearbyint(static_cast<double>(W) / ratio_min));
  else if (in_ratio > ratio_max)
    w = static_cast<int64_t>(std::nearbyint(static_cast<double>(H) * ratio_max));
  return {(H - h) / 2, (W - w) / 2, h, w};
}

RandomResizedCrop::RandomResizedCrop(int64_t size, float scale_min, float scale_max, float ratio_min, float ratio_max)
    : size_(size), scale_min_(scale_min), scale_max_(scale_max), ratio_min_(ratio_min), ratio_max_(ratio_max) {
  QNN_CHECK(size > 0 && 0.0f < scale_min && scale_min <= scale_max && 0.0f < ratio_min && ratio_min <= ratio_max,
            "RandomResizedCrop",
            "got size " << size << ", scale [" << scale_min << ", " << scale_max << "], ratio [" << ratio_min << ", "
                        << ratio_max
                        << "] (expected size > 0, 0 < scale_min <= scale_max, 0 < ratio_min <= ratio_max)");
}

Tensor RandomResizedCrop::operator()(const Tensor& image, Generator& gen) const {
  const Geometry g = geometry(image, DType::UInt8, "RandomResizedCrop");
  const CropBox b = random_resized_crop_box(g.H, g.W, scale_min_, scale_max_, ratio_min_, ratio_max_, gen);
  // The box lies inside the image: resample a view of it, no copy.
  const Tensor window =
      make_view(image, {g.C, b.height, b.width}, {g.sc, g.sh, g.sw}, image.offset() + b.top * g.sh + b.left * g.sw);
  return resize_bilinear(window, size_, size_);
}

std::string RandomResizedCrop::describe() const {
  return "RandomResizedCrop(size=" + std::to_string(size_) + ", scale=[" + float_text(scale_min_) + ", " +
         float_text(scale_max_) + "], ratio=[" + float_text(ratio_min_) + ", " + float_text(ratio_max_) +
         "], bilinear)";
}

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

TransformPtr imagenet_train_transform(const std::vector<float>& mean, const std::vector<float>& std, int64_t crop) {
  return std::make_shared<Compose>(
      std::vector<TransformPtr>{std::make_shared<RandomResizedCrop>(crop), std::make_shared<ToTensor>(),
                                std::make_shared<RandomHorizontalFlip>(0.5f), std::make_shared<Normalize>(mean, std)});
}

TransformPtr imagenet_eval_transform(const std::vector<float>& mean, const std::vector<float>& std, int64_t resize,
                                     int64_t crop) {
  return std::make_shared<Compose>(
      std::vector<TransformPtr>{std::make_shared<Resize>(resize), std::make_shared<CenterCrop>(crop),
                                std::make_shared<ToTensor>(), std::make_shared<Normalize>(mean, std)});
}

}  // namespace qnn::data
