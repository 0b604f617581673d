// Transforms: hand-worked values for ToTensor (both layouts), Normalize, pad_crop offsets, hflip;
// the random transforms' draws, coverage and determinism; the CIFAR presets.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

#include "core/ops.h"
#include "datasets/transforms.h"

using namespace qnn;
using namespace qnn::data;

namespace {
Tensor img(const std::vector<float>& v, const Shape& shape) { return from_vector<float>(v, shape); }
// 1 x 3 x 3 image with values 1..9, row-major.
Tensor nine() { return img({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3}); }
}  // namespace

TEST_SUITE("transforms") {
  TEST_CASE("ToTensor divides by 255 and reorders HWC to CHW") {
    Generator gen(0);
    Tensor chw = from_vector<uint8_t>({0, 51, 255, 102, 1, 2}, {2, 1, 3});
    Tensor a = ToTensor()(chw, gen);
    CHECK(a.dtype() == DType::Float32);
    CHECK(a.shape() == Shape{2, 1, 3});
    CHECK(a.to_vector<float>() == std::vector<float>{0.0f, 0.2f, 1.0f, 0.4f, 1.0f / 255.0f, 2.0f / 255.0f});
    // [H=1, W=2, C=3]: pixel (0,0) = (10, 20, 30), pixel (0,1) = (40, 50, 60).
    Tensor hwc = from_vector<uint8_t>({10, 20, 30, 40, 50, 60}, {1, 2, 3});
    Tensor b = ToTensor(Layout::HWC)(hwc, gen);
    CHECK(b.shape() == Shape{3, 1, 2});
    const std::vector<float> want = {10 / 255.f, 40 / 255.f, 20 / 255.f, 50 / 255.f, 30 / 255.f, 60 / 255.f};
    CHECK(b.to_vector<float>() == want);
    // A non-contiguous view reads through its strides.
    Tensor t = ToTensor()(chw.transpose(1, 2), gen);
    CHECK(t.shape() == Shape{2, 3, 1});
    CHECK(t.to_vector<float>() == a.to_vector<float>());
    CHECK_THROWS_AS(ToTensor()(a, gen), Error);                                  // already float
    CHECK_THROWS_AS(ToTensor()(from_vector<uint8_t>({1, 2}, {2}), gen), Error);  // not 3-d
  }

  TEST_CASE("Normalize subtracts the mean and divides by the std per channel") {
    Generator gen(0);
    Tensor x = img({0.5f, 1.0f, 0.0f, 0.25f}, {2, 1, 2});
    Tensor y = Normalize({0.5f, 0.25f}, {0.5f, 0.125f})(x, gen);
    CHECK(y.to_vector<float>() == std::vector<float>{0.0f, 1.0f, -2.0f, 0.0f});
    CHECK_THROWS_AS(Normalize({0.5f}, {0.5f})(x, gen), Error);  // 1 mean for 2 channels
    CHECK_THROWS_AS(Normalize({0.5f, 0.5f}, {0.5f, 0.0f}), Error);
    CHECK_THROWS_AS(Normalize({0.5f}, {0.5f, 0.5f}), Error);
    CHECK_THROWS_AS(Normalize({0.5f, 0.5f}, {1.f, 1.f})(from_vector<uint8_t>({1, 2}, {2, 1, 1}), gen), Error);
  }

  TEST_CASE("pad_crop takes the window of the zero-padded image") {
    // Padded by 1, the 3x3 image 1..9 is
    //   0 0 0 0 0
    //   0 1 2 3 0
    //   0 4 5 6 0
    //   0 7 8 9 0
    //   0 0 0 0 0
    CHECK(pad_crop(nine(), 0, 0, 3, 3, 1).to_vector<float>() == std::vector<float>{0, 0, 0, 0, 1, 2, 0, 4, 5});
    CHECK(pad_crop(nine(), 2, 1, 3, 3, 1).to_vector<float>() == std::vector<float>{4, 5, 6, 7, 8, 9, 0, 0, 0});
    CHECK(pad_crop(nine(), 1, 1, 3, 3, 1).to_vector<float>() == nine().to_vector<float>());
    CHECK(pad_crop(nine(), 1, 2, 2, 3, 1).to_vector<float>() == std::vector<float>{2, 3, 0, 5, 6, 0});
    CHECK(pad_crop(nine(), 0, 1, 2, 2, 0).to_vector<float>() == std::vector<float>{2, 3, 5, 6});
    // Channels are cropped alike.
    Tensor two = img({1, 2, 3, 4, 10, 20, 30, 40}, {2, 2, 2});
    CHECK(pad_crop(two, 0, 1, 2, 2, 1).to_vector<float>() == std::vector<float>{0, 0, 1, 2, 0, 0, 10, 20});
    CHECK_THROWS_AS(pad_crop(nine(), 3, 0, 3, 3, 1), Error);  // past the bottom
    CHECK_THROWS_AS(pad_crop(nine(), -1, 0, 3, 3, 1), Error);
  }

  TEST_CASE("hflip mirrors each row") {
    CHECK(hflip(nine()).to_vector<float>() == std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7});
    CHECK(hflip(nine().transpose(1, 2)).to_vector<float>() == std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3});
  }

  TEST_CASE("RandomCrop draws top then left uniformly, and nothing when the window fits") {
    // The draws are documented: top = integer(0, 3), then left = integer(0, 3) for padding 1.
    Generator gen(5), twin(5);
    RandomCrop crop(3, 1);
    for (int k = 0; k < 20; ++k) {
      const int64_t top = twin.integer(0, 3), left = twin.integer(0, 3);
      CHECK(crop(nine(), gen).to_vector<float>() == pad_crop(nine(), top, left, 3, 3, 1).to_vector<float>());
    }
    // All 9 offsets occur, with about equal counts (900 draws: 100 expected each, 5 sigma ~ 47).
    std::map<std::vector<float>, int> seen;
    for (int k = 0; k < 900; ++k)
      ++seen[crop(nine(), gen).to_vector<float>()];
    CHECK(seen.size() == 9);
    for (const auto& [window, count] : seen)
      CHECK(std::abs(count - 100) < 47);
    // Exact fit: the image itself, and the generator is untouched.
    Generator a(9), b(9);
    CHECK(RandomCrop(3, 0)(nine(), a).to_vector<float>() == nine().to_vector<float>());
    CHECK(a.next_u64() == b.next_u64());
    CHECK_THROWS_AS(RandomCrop(4, 0)(nine(), a), Error);
    CHECK_THROWS_AS(RandomCrop(0, 0), Error);
  }

  TEST_CASE("RandomHorizontalFlip flips when uniform() < p") {
    Generator gen(3), twin(3);
    RandomHorizontalFlip flip(0.5f);
    int flipped = 0;
    for (int k = 0; k < 2000; ++k) {
      const bool expect = twin.uniform() < 0.5f;
      const std::vector<float> got = flip(nine(), gen).to_vector<float>();
      CHECK(got == (expect ? hflip(nine()) : nine()).to_vector<float>());
      flipped += expect;
    }
    CHECK(std::abs(flipped - 1000) < 120);  // 5.4 sigma
    Generator g(1);
    CHECK(RandomHorizontalFlip(1.0f)(nine(), g).to_vector<float>() == hflip(nine()).to_vector<float>());
    CHECK(RandomHorizontalFlip(0.0f)(nine(), g).to_vector<float>() == nine().to_vector<float>());
    CHECK_THROWS_AS(RandomHorizontalFlip(1.5f), Error);
  }

  TEST_CASE("Compose applies in order; the CIFAR presets") {
    Generator gen(0);
    Tensor u8 = from_vector<uint8_t>({0, 255, 51, 102}, {1, 2, 2});
    Compose c({std::make_shared<ToTensor>(),
               std::make_shared<Normalize>(std::vector<float>{0.2f}, std::vector<float>{0.5f})});
    const std::vector<float> want = {(0.0f - 0.2f) / 0.5f, (1.0f - 0.2f) / 0.5f, (0.2f - 0.2f) / 0.5f,
                                     (0.4f - 0.2f) / 0.5f};
    CHECK(c(u8, gen).to_vector<float>() == want);
    CHECK(c.describe() == "Compose(ToTensor(CHW), Normalize(mean=[0.2], std=[0.5]))");

    CHECK(cifar_train_transform()->describe() ==
          "Compose(ToTensor(CHW), RandomCrop(size=32, padding=4), RandomHorizontalFlip(p=0.5), "
          "Normalize(mean=[0.49139968, 0.48215842, 0.4465309], std=[0.24703223, 0.24348512, 0.26158783]))");  // float32
                                                                                                              // values
    // The train preset equals its steps done by hand with the same draws.
    std::vector<uint8_t> pixels(3 * 32 * 32);
    for (size_t k = 0; k < pixels.size(); ++k)
      pixels[k] = static_cast<uint8_t>((k * 37) % 256);
    Tensor raw = from_vector<uint8_t>(pixels, {3, 32, 32});
    for (uint64_t seed = 0; seed < 8; ++seed) {
      Generator g(seed), twin(seed);
      const Tensor got = (*cifar_train_transform(kImageNetMean, kImageNetStd))(raw, g);
      const int64_t top = twin.integer(0, 9), left = twin.integer(0, 9);
      Tensor want_t = pad_crop(ToTensor()(raw, twin), top, left, 32, 32, 4);
      if (twin.uniform() < 0.5f)
        want_t = hflip(want_t);
      want_t = Normalize(kImageNetMean, kImageNetStd)(want_t, twin);
      CHECK(got.shape() == Shape{3, 32, 32});
      CHECK(got.to_vector<float>() == want_t.to_vector<float>());
    }
    // Test preset: pixel (c=2, h=0, w=1) is byte 2*1024 + 1.
    const Tensor t = (*cifar_test_transform())(raw, gen);
    const float x = static_cast<float>(pixels[2 * 1024 + 1]) / 255.0f;
    CHECK(t.to_vector<float>()[2 * 1024 + 1] == (x - kCifar10Mean[2]) / kCifar10Std[2]);
  }
}
