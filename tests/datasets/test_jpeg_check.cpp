// datasets/jpeg_check.h: the JPEGs stb_image 2.27 would decode past its Huffman tables or with
// undefined ones are refused by decode_image with a message naming the file; valid JPEGs pass.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "core/error.h"
#include "datasets/image_folder.h"
#include "datasets/jpeg_check.h"
#include "tests/error_of.h"
#include "tests/temp_dir.h"

using qnn::testing::error_of;
using namespace qnn;
using qnn::testing::read_file;
using qnn::testing::TempDir;
using qnn::testing::write_file;

namespace {

const std::string kFuzzDir = std::string(QNN_TEST_DATA_DIR) + "/../fuzz";

// The position of the first segment with this marker (its 0xFF), or npos.
size_t find_marker(const std::string& jpeg, unsigned char marker) {
  for (size_t i = 0; i + 1 < jpeg.size(); ++i)
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && static_cast<unsigned char>(jpeg[i + 1]) == marker)
      return i;
  return std::string::npos;
}

}  // namespace

TEST_SUITE("jpeg_check") {
  TEST_CASE("inputs the fuzzer found are refused by decode_image, naming the file") {
    const struct {
      const char* file;
      const char* what;
    } cases[] = {
        {"dht_over_256_codes.jpg", "JPEG Huffman table DC2 at byte 173 declares 1121 codes (expected at most 256"},
        {"dht_over_256_codes_after_fill_bytes.jpg", "declares 776 codes"},
        {"scan_uses_undefined_table.jpg", "decodes with Huffman table AC0, which no DHT segment before it defines"},
    };
    for (const auto& c : cases) {
      const std::string path = kFuzzDir + "/regressions/image/" + c.file;
      CAPTURE(path);
      REQUIRE(std::filesystem::exists(path));
      const std::string msg = error_of([&] { data::decode_image(path); });
      CAPTURE(msg);
      CHECK(msg.find("decode_image: " + path) == 0);
      CHECK(msg.find(c.what) != std::string::npos);
    }
  }

  TEST_CASE("valid JPEGs pass; one count or one table selector changed does not") {
    const std::string jpeg = read_file(kFuzzDir + "/corpus/image/rgb_17x9_q50_420.jpg");
    REQUIRE(jpeg.size() > 100);
    auto check = [](const std::string& bytes) {
      return error_of(
          [&] { data::check_jpeg_tables(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x.jpg"); });
    };
    CHECK(check(jpeg).empty());
    CHECK(check("not a jpeg").empty());
    CHECK(check(std::string("\xFF\xD8", 2)).empty());  // truncated: the decoder says so

    // The first count of the first DHT table (byte 5 of the segment: FF C4, length, class/id) to 255:
    // with the other counts the table declares more than 256 codes.
    const size_t dht = find_marker(jpeg, 0xC4);
    REQUIRE(dht != std::string::npos);
    std::string big = jpeg;
    big[dht + 5] = '\xFF';
    big[dht + 6] = '\xFF';
    CHECK(check(big).find("x.jpg: JPEG Huffman table") != std::string::npos);

    // The first scan's first component to use table 3 of each class, which no DHT defines.
    const size_t sos = find_marker(jpeg, 0xDA);
    REQUIRE(sos != std::string::npos);
    std::string undefined = jpeg;
    undefined[sos + 6] = '\x33';  // FF DA, length (2), count (1), component id (1), tables
    CHECK(check(undefined).find("which no DHT segment before it defines") != std::string::npos);

    TempDir dir("jpeg_check", "decode");
    write_file(dir.path / "ok.jpg", jpeg);
    CHECK(data::decode_image(dir.file("ok.jpg")).shape() == Shape{3, 9, 17});
  }
}
