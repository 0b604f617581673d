// CIFAR binary files: a tiny file written here (two records of known bytes) read back through
// every accessor, CIFAR-100's two label bytes, size and label errors naming the path, and with
// QNN_DATA_DIR the real test batch (shared/data/SOURCES.md section 1).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "datasets/cifar.h"
#include "tests/error_of.h"
#include "tests/temp_dir.h"

using qnn::testing::error_of;
using namespace qnn;
using namespace qnn::data;
namespace fs = std::filesystem;
using qnn::testing::TempDir;
using qnn::testing::write_file;

namespace {

// Pixel byte k (0..3071) of record r: distinct per record and per plane.
uint8_t pixel_byte(int r, int k) { return static_cast<uint8_t>(r == 0 ? k % 251 : 255 - k % 256); }

// Records in the official layout: label bytes, then R plane, G plane, B plane.
std::string records(const std::vector<std::vector<uint8_t>>& label_bytes) {
  std::string out;
  for (size_t r = 0; r < label_bytes.size(); ++r) {
    for (uint8_t b : label_bytes[r])
      out.push_back(static_cast<char>(b));
    for (int k = 0; k < 3072; ++k)
      out.push_back(static_cast<char>(pixel_byte(static_cast<int>(r), k)));
  }
  return out;
}

}  // namespace

TEST_SUITE("cifar") {
  TEST_CASE("CIFAR-10: two records read back through every accessor") {
    TempDir dir("cifar", "c10");
    const std::string path = dir.file("two.bin");
    write_file(path, records({{3}, {9}}));
    const Cifar data(CifarVariant::Cifar10, {path});
    REQUIRE(data.size() == 2);
    CHECK(data.num_classes() == 10);
    CHECK(data.label(0) == 3);
    CHECK(data.label(1) == 9);
    CHECK(data.labels().to_vector<int64_t>() == std::vector<int64_t>{3, 9});
    CHECK(data.images().shape() == Shape{2, 3, 32, 32});
    CHECK(!data.coarse_labels().defined());
    for (int r = 0; r < 2; ++r)
      for (int k = 0; k < 3072; k += 97)
        CHECK(data.pixels(r)[k] == pixel_byte(r, k));
    // CHW: (c, h, w) is byte c*1024 + h*32 + w. Pixel (G, row 2, column 5) of record 1:
    const int k = 1 * 1024 + 2 * 32 + 5;
    CHECK(data.raw_image(1).shape() == Shape{3, 32, 32});
    CHECK(data.raw_image(1).to_vector<uint8_t>()[k] == pixel_byte(1, k));
    // get() without a transform: float32 in [0, 1], the byte / 255.
    const Example ex = data.get(1);
    CHECK(ex.label == 9);
    CHECK(ex.image.dtype() == DType::Float32);
    CHECK(ex.image.shape() == Shape{3, 32, 32});
    CHECK(ex.image.to_vector<float>()[k] == static_cast<float>(pixel_byte(1, k)) / 255.0f);
    CHECK_THROWS_AS(data.label(2), Error);
    CHECK_THROWS_AS(data.raw_image(-1), Error);

    // Several files are concatenated in order; a copy shares the pixels but not the transform.
    const Cifar both(CifarVariant::Cifar10, {path, path}, cifar_test_transform());
    CHECK(both.size() == 4);
    CHECK(both.label(2) == 3);
    Cifar copy = both;
    copy.set_transform(nullptr);
    CHECK(copy.images().storage() == both.images().storage());
    CHECK(copy.get(0).image.to_vector<float>()[0] == 0.0f);
    CHECK(both.get(0).image.to_vector<float>()[0] == (0.0f - kCifar10Mean[0]) / kCifar10Std[0]);
  }

  TEST_CASE("CIFAR-100: coarse then fine label byte; the fine one is the label") {
    TempDir dir("cifar", "c100");
    const std::string path = dir.file("two.bin");
    write_file(path, records({{4, 57}, {19, 99}}));
    const Cifar data(CifarVariant::Cifar100, {path});
    REQUIRE(data.size() == 2);
    CHECK(data.num_classes() == 100);
    CHECK(data.labels().to_vector<int64_t>() == std::vector<int64_t>{57, 99});
    CHECK(data.coarse_labels().to_vector<int64_t>() == std::vector<int64_t>{4, 19});
    CHECK(data.pixels(1)[3071] == pixel_byte(1, 3071));
    CHECK(data.pixels(0)[0] == pixel_byte(0, 0));
  }

  TEST_CASE("wrong sizes, missing files and bad labels are errors naming the path") {
    TempDir dir("cifar", "errors");
    const std::string path = dir.file("bad.bin");
    auto expect = [&](const std::function<void()>& fn, const std::string& p, const std::string& what) {
      const std::string msg = error_of(fn);
      CAPTURE(msg);
      CHECK(msg.find(p) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    };
    write_file(path, records({{3}, {9}}) + "x");
    expect([&] { Cifar(CifarVariant::Cifar10, {path}); }, path, "multiple of the record size 3073");
    write_file(path, "");
    expect([&] { Cifar(CifarVariant::Cifar10, {path}); }, path, "got 0 bytes");
    // A CIFAR-10 file read as CIFAR-100: 2 x 3073 is no multiple of 3074.
    write_file(path, records({{3}, {9}}));
    expect([&] { Cifar(CifarVariant::Cifar100, {path}); }, path, "3074");
    write_file(path, records({{10}}));
    expect([&] { Cifar(CifarVariant::Cifar10, {path}); }, path, "label 10");
    write_file(path, records({{20, 5}}));
    expect([&] { Cifar(CifarVariant::Cifar100, {path}); }, path, "coarse label 20");
    const std::string missing = dir.file("missing.bin");
    expect([&] { Cifar(CifarVariant::Cifar10, {missing}); }, missing, "cannot read");

    // The official layout checks the official size: a 2-record test_batch.bin is not one.
    write_file(dir.file("test_batch.bin"), records({{3}, {9}}));
    expect([&] { Cifar(dir.path.string(), CifarVariant::Cifar10, Split::Test); }, dir.file("test_batch.bin"),
           "expected 30730000");
    expect([&] { Cifar(dir.path.string(), CifarVariant::Cifar10, Split::Train); }, dir.file("data_batch_1.bin"),
           "expected 30730000 bytes");
    expect([&] { Cifar(dir.path.string(), CifarVariant::Cifar100, Split::Train); }, dir.file("train.bin"),
           "expected 153700000 bytes");
  }

  TEST_CASE("real CIFAR-10 test batch from QNN_DATA_DIR") {
    const char* data_dir = std::getenv("QNN_DATA_DIR");
    if (!data_dir) {
      MESSAGE("skipped: QNN_DATA_DIR is not set (expected the folder holding cifar-10-batches-bin/)");
      return;
    }
    const Cifar test(std::string(data_dir) + "/cifar-10-batches-bin", CifarVariant::Cifar10, Split::Test);
    REQUIRE(test.size() == 10000);
    std::vector<int64_t> per_class(10, 0);
    for (int64_t label : test.labels().to_vector<int64_t>())
      ++per_class.at(static_cast<size_t>(label));
    CHECK(per_class == std::vector<int64_t>(10, 1000));
    // The well-known first 16 test labels (cat, ship, ship, airplane, frog, ...).
    const std::vector<int64_t> first16 = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1, 0, 9, 5, 7, 9, 8};
    for (int64_t i = 0; i < 16; ++i)
      CHECK(test.label(i) == first16[static_cast<size_t>(i)]);

    // ToTensor + Normalize with the ImageNet statistics gives, bit for bit, the network input
    // PyTorch/numpy computed for the ResNet-20 parity fixture (float32 x / 255, then (x - m) / s).
    const SafetensorsFile fixture =
        load_safetensors(std::string(data_dir) + "/pretrained/resnet20_first16_test_logits.safetensors");
    CHECK(fixture.at("labels").to_vector<int64_t>() == first16);
    const Tensor& want = fixture.at("input_normalized");
    REQUIRE(want.shape() == Shape{16, 3, 32, 32});
    Cifar normalized = test;
    normalized.set_transform(cifar_test_transform(kImageNetMean, kImageNetStd));
    for (int64_t i = 0; i < 16; ++i) {
      CAPTURE(i);
      CHECK(normalized.get(i).image.to_vector<float>() == want.select(0, i).to_vector<float>());
    }
  }
}
