// ImageNet transforms against torchvision 0.14 + Pillow 9.4 (tests/tools/gen_imagenet_transforms.py
// wrote tests/data/imagenet_transforms.json): the bilinear resize byte for byte, the shorter-side
// sizes, CenterCrop's rounding and padding, resized_crop, and the whole eval pipeline in float.
// Then RandomResizedCrop's box by hand, and real JPEGs (QNN_DATA_DIR) through stb_image against
// PIL's decode, with the tolerance the decoders' difference needs.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <vector>

#include "core/ops.h"
#include "datasets/image_folder.h"
#include "datasets/transforms.h"
#include "tests/data_dir.h"
#include "tests/golden.h"

using namespace qnn;
using namespace qnn::data;

namespace {

// stb_image and PIL (libjpeg-turbo) decode the same JPEG to pixels that differ by a level or two
// here and there (their IDCT, chroma upsampling and colour conversion round differently; the
// resize after them is exact). Measured on the four files (4:4:4, 4:2:0, grayscale, 1152x864):
// per-channel means of the decoded image within 0.09 levels of PIL's, the normalized 224x224
// output's means within 0.0016 and its pixels (every 8th) within 0.035 = 2 levels / (255 * 0.224).
// The bounds: decoded means within 0.25 levels; output means within 0.005; output pixels within
// 3 levels, i.e. 3 / (255 * 0.224) in normalized units (0.224 = the smallest ImageNet std).
constexpr double kDecodeMeanLevels = 0.25, kOutputMeanTolerance = 0.005, kOutputMaxTolerance = 3.0 / (255.0 * 0.224);

const nlohmann::json& golden() { return qnn::testing::golden_file("imagenet_transforms.json"); }

Tensor u8(const nlohmann::json& values, const nlohmann::json& shape) {
  return from_vector<uint8_t>(values.get<std::vector<uint8_t>>(), shape.get<Shape>());
}

// The same pixels stored interleaved [H, W, C] and viewed as [C, H, W], as decode_image returns.
Tensor as_hwc_view(const Tensor& chw) {
  const Tensor hwc = chw.permute({1, 2, 0}).contiguous();
  const int64_t C = chw.size(0), W = chw.size(2);
  return make_view(hwc, chw.shape(), {1, W * C, C}, hwc.offset());
}

}  // namespace

TEST_SUITE("imagenet_transforms") {
  TEST_CASE("resize_bilinear equals Pillow's BILINEAR byte for byte, from CHW or HWC memory") {
    for (const auto& c : golden().at("resize")) {
      const Tensor x = u8(c.at("input"), c.at("input_shape"));
      const int64_t oh = c.at("size")[0], ow = c.at("size")[1];
      CAPTURE(x.shape());
      CAPTURE(oh);
      CAPTURE(ow);
      const std::vector<uint8_t> want = c.at("output").get<std::vector<uint8_t>>();
      const Tensor y = resize_bilinear(x, oh, ow);
      CHECK(y.shape() == Shape{3, oh, ow});
      CHECK(y.to_vector<uint8_t>() == want);
      CHECK(resize_bilinear(as_hwc_view(x), oh, ow).to_vector<uint8_t>() == want);
    }
    Generator gen(0);
    CHECK_THROWS_AS(resize_bilinear(from_vector<float>({1, 2, 3}, {1, 1, 3}), 2, 2), Error);  // float
    CHECK_THROWS_AS(resize_bilinear(from_vector<uint8_t>({1, 2, 3}, {1, 1, 3}), 0, 2), Error);
  }

  TEST_CASE("Resize(size): the shorter side to size, the longer truncated, as torchvision") {
    for (const auto& c : golden().at("shorter_side")) {
      const auto [h, w] = shorter_side_size(c.at("hw")[0], c.at("hw")[1], c.at("size"));
      CAPTURE(c.dump());
      CHECK(h == c.at("out_hw")[0].get<int64_t>());
      CHECK(w == c.at("out_hw")[1].get<int64_t>());
    }
    Generator gen(0);
    const Tensor y = Resize(4)(from_vector<uint8_t>(std::vector<uint8_t>(3 * 8 * 12, 7), {3, 8, 12}), gen);
    CHECK(y.shape() == Shape{3, 4, 6});
    CHECK(y.to_vector<uint8_t>() == std::vector<uint8_t>(3 * 4 * 6, 7));  // a constant stays constant
  }

  TEST_CASE("resizes are bounded by the image pixel limit: Resize(256) of a 1x60000 strip is refused, not allocated") {
    Generator gen(0);
    const Tensor strip = from_vector<uint8_t>(std::vector<uint8_t>(3 * 60000, 9), {3, 1, 60000});
    // 256 x 15,360,000 x 3 bytes = 11.8 GB.
    CHECK_THROWS_WITH_AS(Resize(256)(strip, gen),
                         doctest::Contains("Resize(size=256, bilinear): a 1x60000 (height x width) image would become "
                                           "256x15360000, 3932160000 pixels, more than the limit of 178956970"),
                         Error);
    CHECK_THROWS_WITH_AS(resize_bilinear(strip, 256, 15360000),
                         doctest::Contains("resize_bilinear: a 1x60000 (height x width) image would become "
                                           "256x15360000, 3932160000 pixels, more than the limit of 178956970"),
                         Error);
    // Sizes whose product does not even fit in 64 bits.
    CHECK_THROWS_WITH_AS(resize_bilinear(strip, int64_t{1} << 40, int64_t{1} << 40),
                         doctest::Contains("pixels, more than"), Error);
    // Within the limit: fine.
    CHECK(Resize(2)(strip, gen).shape() == Shape{3, 2, 120000});
    const int64_t saved = max_image_pixels();
    set_max_image_pixels(239999);
    CHECK_THROWS_AS(Resize(2)(strip, gen), Error);
    set_max_image_pixels(240000);
    CHECK_NOTHROW(Resize(2)(strip, gen));
    set_max_image_pixels(saved);
  }

  TEST_CASE("CenterCrop: Python's round half to even, zero padding when the image is smaller") {
    Generator gen(0);
    for (const auto& c : golden().at("center_crop")) {
      const Tensor x = u8(c.at("input"), c.at("input_shape"));
      CAPTURE(x.shape());
      const CenterCrop center(c.at("crop")[0], c.at("crop")[1]);
      const Tensor y = center(x, gen);
      CHECK(y.to_vector<uint8_t>() == c.at("output").get<std::vector<uint8_t>>());
      // float32 in, float32 out, the same pixels
      const Tensor yf = center(ToTensor()(x, gen), gen);
      CHECK(yf.to_vector<float>() == ToTensor()(y, gen).to_vector<float>());
    }
  }

  TEST_CASE("resized_crop: crop, then resize the crop, as torchvision on PIL images") {
    for (const auto& c : golden().at("resized_crop")) {
      const Tensor x = u8(c.at("input"), c.at("input_shape"));
      const auto& b = c.at("box");
      const int64_t size = c.at("size");
      const Tensor y = resize_bilinear(crop(x, b[0], b[1], b[2], b[3]), size, size);
      CHECK(y.to_vector<uint8_t>() == c.at("output").get<std::vector<uint8_t>>());
    }
  }

  TEST_CASE("the eval pipeline (Resize, CenterCrop, ToTensor, Normalize) equals torchvision's within 1e-6") {
    Generator gen(0);
    for (const auto& c : golden().at("eval_pipeline")) {
      const Tensor x = u8(c.at("input"), c.at("input_shape"));
      const int64_t crop_size = c.at("crop");
      const TransformPtr t = imagenet_eval_transform(kImageNetMean, kImageNetStd, c.at("resize"), crop_size);
      const Tensor y = (*t)(as_hwc_view(x), gen);
      REQUIRE(y.shape() == Shape{3, crop_size, crop_size});
      const std::vector<float> got = y.to_vector<float>(), want = c.at("output").get<std::vector<float>>();
      float worst = 0.0f;
      for (size_t k = 0; k < got.size(); ++k)
        worst = std::max(worst, std::abs(got[k] - want[k]));
      CHECK(worst <= 1e-6f);
    }
    CHECK(imagenet_eval_transform()->describe() ==
          "Compose(Resize(size=256, bilinear), CenterCrop(size=224), ToTensor(CHW), Normalize(mean=[0.485, 0.456, "
          "0.406], std=[0.229, 0.224, 0.225]))");
  }

  TEST_CASE("random_resized_crop_box: inside the image, area and ratio in range, seeded; the fallback by hand") {
    std::set<std::vector<int64_t>> distinct;
    for (uint64_t seed = 0; seed < 500; ++seed) {
      Generator gen(seed);
      const CropBox b = random_resized_crop_box(375, 500, 0.08f, 1.0f, 0.75f, 4.0f / 3.0f, gen);
      CAPTURE(seed);
      REQUIRE(b.top >= 0);
      REQUIRE(b.left >= 0);
      REQUIRE(b.top + b.height <= 375);
      REQUIRE(b.left + b.width <= 500);
      // w and h are rounded from exact values: the area and ratio hold up to that rounding.
      const double area = static_cast<double>(b.height * b.width) / (375.0 * 500.0);
      CHECK(area >= 0.08 * 0.97);
      CHECK(area <= 1.0);
      const double ratio = static_cast<double>(b.width) / static_cast<double>(b.height);
      CHECK(ratio >= 0.75 * (1 - 1.0 / 40));
      CHECK(ratio <= 4.0 / 3.0 * (1 + 1.0 / 40));
      Generator again(seed);
      const CropBox c = random_resized_crop_box(375, 500, 0.08f, 1.0f, 0.75f, 4.0f / 3.0f, again);
      CHECK((c.top == b.top && c.left == b.left && c.height == b.height && c.width == b.width));
      distinct.insert({b.top, b.left, b.height, b.width});
    }
    CHECK(distinct.size() > 450);
    // 10 x 1000: every try needs h >= sqrt(0.08 * 10000 * 3 / 4) > 10 rows, so all 10 fail and the
    // fallback takes the full height at ratio 4/3: w = round(13.33) = 13, centred: (1000 - 13) / 2.
    Generator gen(1);
    const CropBox wide = random_resized_crop_box(10, 1000, 0.08f, 1.0f, 0.75f, 4.0f / 3.0f, gen);
    CHECK((wide.top == 0 && wide.left == 493 && wide.height == 10 && wide.width == 13));
    const CropBox tall = random_resized_crop_box(1000, 10, 0.08f, 1.0f, 0.75f, 4.0f / 3.0f, gen);
    CHECK((tall.top == 493 && tall.left == 0 && tall.height == 13 && tall.width == 10));
    // scale [1, 1] and ratio [1, 1] on a square: the whole image, after one try.
    const CropBox whole = random_resized_crop_box(64, 64, 1.0f, 1.0f, 1.0f, 1.0f, gen);
    CHECK((whole.top == 0 && whole.left == 0 && whole.height == 64 && whole.width == 64));
    CHECK_THROWS_AS(RandomResizedCrop(224, 0.5f, 0.1f), Error);
  }

  TEST_CASE("the train pipeline: 3 x 224 x 224 float, the same for a seed, different across seeds") {
    std::vector<uint8_t> pixels(3 * 60 * 80);
    for (size_t k = 0; k < pixels.size(); ++k)
      pixels[k] = static_cast<uint8_t>((k * 37) % 251);
    const Tensor x = from_vector<uint8_t>(pixels, {3, 60, 80});
    const TransformPtr t = imagenet_train_transform();
    Generator a(7), b(7), c(8);
    const Tensor ya = (*t)(x, a), yb = (*t)(x, b), yc = (*t)(x, c);
    CHECK(ya.shape() == Shape{3, 224, 224});
    CHECK(ya.dtype() == DType::Float32);
    CHECK(ya.to_vector<float>() == yb.to_vector<float>());
    CHECK(ya.to_vector<float>() != yc.to_vector<float>());
  }

  TEST_CASE("real JPEGs: stb_image against PIL's decode, and the eval pipeline on them") {
    const char* root = qnn::testing::data_dir_or_skip();
    if (!root)
      return;
    const std::string dir = std::string(root) + "/imagenet/class_samples_original/";
    const TransformPtr t = imagenet_eval_transform();
    Generator gen(0);
    for (const auto& c : golden().at("jpeg")) {
      const std::string file = c.at("file");
      CAPTURE(file);
      const Tensor raw = decode_image(dir + file);
      REQUIRE(raw.shape() == Shape{3, c.at("hw")[0].get<int64_t>(), c.at("hw")[1].get<int64_t>()});
      const Tensor decoded = ToTensor()(raw, gen);
      if (c.at("mode") == "L") {  // gray replicated into R, G and B
        const std::vector<float> v = decoded.to_vector<float>();
        const size_t plane = v.size() / 3;
        CHECK(std::equal(v.begin(), v.begin() + plane, v.begin() + plane));
        CHECK(std::equal(v.begin(), v.begin() + plane, v.begin() + 2 * plane));
      }
      const Tensor y = (*t)(raw, gen);
      REQUIRE(y.shape() == Shape{3, 224, 224});
      const std::vector<float> out = y.to_vector<float>(), grid = c.at("output_grid").get<std::vector<float>>();
      double worst_mean_raw = 0.0, worst_mean_out = 0.0, worst_grid = 0.0, sum_grid = 0.0;
      for (int64_t ch = 0; ch < 3; ++ch) {
        double raw_mean = 0.0, out_mean = 0.0;
        const std::vector<float> plane = decoded.select(0, ch).contiguous().to_vector<float>();
        for (float v : plane)
          raw_mean += v;
        raw_mean = raw_mean * 255.0 / static_cast<double>(plane.size());
        for (int64_t k = 0; k < 224 * 224; ++k)
          out_mean += out[ch * 224 * 224 + k];
        out_mean /= 224.0 * 224.0;
        worst_mean_raw = std::max(worst_mean_raw, std::abs(raw_mean - c.at("decoded_mean")[ch].get<double>()));
        worst_mean_out = std::max(worst_mean_out, std::abs(out_mean - c.at("output_mean")[ch].get<double>()));
        for (int64_t i = 0; i < 28; ++i)
          for (int64_t j = 0; j < 28; ++j) {
            const double d = std::abs(out[(ch * 224 + i * 8) * 224 + j * 8] - grid[(ch * 28 + i) * 28 + j]);
            worst_grid = std::max(worst_grid, d);
            sum_grid += d;
          }
      }
      // In units of one level (1/255) of the decoded image, for the normalized output x 255 * std.
      MESSAGE(file << ": |mean - PIL mean| " << worst_mean_raw << " levels; output: |mean diff| " << worst_mean_out
                   << ", max |diff| on the 28x28 grid " << worst_grid << " (mean " << sum_grid / (3 * 28 * 28) << ")");
      CHECK(worst_mean_raw <= kDecodeMeanLevels);
      CHECK(worst_mean_out <= kOutputMeanTolerance);
      CHECK(worst_grid <= kOutputMaxTolerance);
    }
  }
}

// Not run by default (doctest --no-skip runs it): decode and transform throughput on one thread
// over the 100 sample JPEGs, for the report.
TEST_CASE("throughput: decode, eval and train transforms over the 100 samples" * doctest::skip()) {
  const char* root = qnn::testing::data_dir_or_skip();
  if (!root)
    return;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(root) + "/imagenet/class_samples_original"))
    if (e.path().extension() == ".JPEG")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() == 100);
  const TransformPtr eval = imagenet_eval_transform(), train = imagenet_train_transform();
  Generator gen(0);
  double seconds[3] = {0, 0, 0};
  int64_t pixels = 0;
  for (int rep = 0; rep < 2; ++rep)
    for (const std::string& f : files) {
      auto t0 = std::chrono::steady_clock::now();
      const Tensor raw = decode_image(f);
      auto t1 = std::chrono::steady_clock::now();
      const Tensor a = (*eval)(raw, gen);
      auto t2 = std::chrono::steady_clock::now();
      const Tensor b = (*train)(raw, gen);
      auto t3 = std::chrono::steady_clock::now();
      seconds[0] += std::chrono::duration<double>(t1 - t0).count();
      seconds[1] += std::chrono::duration<double>(t2 - t1).count();
      seconds[2] += std::chrono::duration<double>(t3 - t2).count();
      pixels += raw.size(1) * raw.size(2);
    }
  const double n = 200.0;
  MESSAGE("one thread, 100 samples x 2 (mean "
          << pixels / n / 1e3 << " kpixel): decode " << n / seconds[0] << " img/s, eval transform " << n / seconds[1]
          << " img/s, train transform " << n / seconds[2] << " img/s; decode + eval " << n / (seconds[0] + seconds[1])
          << " img/s");
}
