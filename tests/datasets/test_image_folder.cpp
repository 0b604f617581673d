// ImageFolder on small folders written here (PNGs by stb_image_write, so the pixels are known
// exactly): class numbering with and without a fixed class list, file order and extensions,
// gray -> RGB, transforms, the class-list reader, and errors that name the path. Then the pixel
// budget (images whose header announces too many pixels are refused before decoding, and so are
// resizes that would make too many) and folders with symbolic-link loops.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/dataloader.h"
#include "datasets/image_folder.h"
#include "tests/temp_dir.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

using namespace qnn;
using namespace qnn::data;
namespace fs = std::filesystem;
using qnn::testing::TempDir;
using qnn::testing::write_file;

namespace {

// A width x height PNG with `channels` channels whose byte k is (seed + 7 k) mod 256.
std::vector<uint8_t> write_png(const fs::path& file, int width, int height, int channels, int seed) {
  fs::create_directories(file.parent_path());
  std::vector<uint8_t> px(static_cast<size_t>(width * height * channels));
  for (size_t k = 0; k < px.size(); ++k)
    px[k] = static_cast<uint8_t>((seed + 7 * k) % 256);
  REQUIRE(stbi_write_png(file.string().c_str(), width, height, channels, px.data(), width * channels));
  return px;
}

// CRC-32 of PNG chunks (ISO 3309 / ITU-T V.42, the reflected polynomial 0xEDB88320), bit by bit.
uint32_t crc32(const std::string& bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

std::string big_endian(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A PNG of signature, IHDR (8-bit gray, width x height) and IEND only: what a decoder reads to
// learn the size, 45 bytes that announce width * height pixels. (Gray: stb_image itself refuses a
// PNG whose raw data would pass 1 GiB, which an 8-bit RGB 20000 x 20000 would; a gray one it
// decodes, into 1.2 GB of RGB.)
std::string png_header_only(uint32_t width, uint32_t height) {
  auto chunk = [](const std::string& type, const std::string& data) {
    return big_endian(static_cast<uint32_t>(data.size())) + type + data + big_endian(crc32(type + data));
  };
  const std::string ihdr = big_endian(width) + big_endian(height) + std::string("\x08\x00\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IEND", "");
}

// A small valid baseline JPEG (stb_image_write) whose SOF0 segment is then patched to say
// width x height: FF C0, length (2 bytes), precision (1), height (2), width (2).
std::string jpeg_claiming(uint16_t width, uint16_t height) {
  std::vector<uint8_t> px(16 * 16 * 3, 128);
  std::string out;
  REQUIRE(stbi_write_jpg_to_func(
      [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<char*>(data), size);
      },
      &out, 16, 16, 3, px.data(), 90));
  const size_t sof = out.find("\xFF\xC0");
  REQUIRE(sof != std::string::npos);
  out[sof + 5] = static_cast<char>(height >> 8);
  out[sof + 6] = static_cast<char>(height & 0xFF);
  out[sof + 7] = static_cast<char>(width >> 8);
  out[sof + 8] = static_cast<char>(width & 0xFF);
  return out;
}

// Sets the pixel limit for one test case and puts the previous one back.
struct PixelLimit {
  int64_t saved = max_image_pixels();
  explicit PixelLimit(int64_t n) { set_max_image_pixels(n); }
  ~PixelLimit() { set_max_image_pixels(saved); }
};

}  // namespace

TEST_SUITE("image_folder") {
  TEST_CASE("classes are the sorted sub-folders; files sorted by folder then name, any depth, known extensions") {
    TempDir tmp("image_folder", "sorted");
    const fs::path& r = tmp.path;
    write_png(r / "cat" / "b.png", 4, 3, 3, 1);
    write_png(r / "cat" / "a.PNG", 4, 3, 3, 2);
    write_png(r / "cat" / "sub" / "0.png", 4, 3, 3, 3);
    write_file(r / "cat" / "notes.txt", "not an image");  // ignored: not .jpg/.jpeg/.png
    write_png(r / "ant" / "x.png", 2, 2, 3, 4);
    write_png(r / "dog" / "z.png", 2, 5, 3, 5);
    const ImageFolder ds(r.string());
    CHECK(ds.classes() == std::vector<std::string>{"ant", "cat", "dog"});
    REQUIRE(ds.size() == 5);
    const std::vector<std::string> want = {"ant/x.png", "cat/a.PNG", "cat/b.png", "cat/sub/0.png", "dog/z.png"};
    const std::vector<int64_t> labels = {0, 1, 1, 1, 2};
    for (int64_t i = 0; i < ds.size(); ++i) {
      CAPTURE(i);
      CHECK(fs::path(ds.path(i)).lexically_relative(r).generic_string() == want[i]);
      CHECK(ds.label(i) == labels[i]);
      CHECK(ds.get(i).label == labels[i]);
    }
    CHECK_THROWS_AS(ds.path(5), Error);
  }

  TEST_CASE("pixels come back exactly, as [3, H, W]; gray is copied into R, G and B; alpha is dropped") {
    TempDir tmp("image_folder", "pixels");
    const std::vector<uint8_t> rgb = write_png(tmp.path / "c" / "rgb.png", 5, 2, 3, 11);
    const std::vector<uint8_t> gray = write_png(tmp.path / "c" / "gray.png", 3, 4, 1, 22);
    const std::vector<uint8_t> rgba = write_png(tmp.path / "c" / "rgba.png", 2, 2, 4, 33);
    const ImageFolder ds(tmp.path.string());
    REQUIRE(ds.size() == 3);  // gray.png, rgb.png, rgba.png
    const Tensor g = ds.raw_image(0), c = ds.raw_image(1), a = ds.raw_image(2);
    CHECK(g.shape() == Shape{3, 4, 3});
    CHECK(c.shape() == Shape{3, 2, 5});
    CHECK(a.shape() == Shape{3, 2, 2});
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t w = 0; w < 5; ++w)
        for (int64_t ch = 0; ch < 3; ++ch)
          CHECK(c.select(0, ch).select(0, h).select(0, w).contiguous().to_vector<uint8_t>()[0] ==
                rgb[(h * 5 + w) * 3 + ch]);
    for (int64_t ch = 0; ch < 3; ++ch) {
      CHECK(g.select(0, ch).contiguous().to_vector<uint8_t>() == gray);
      std::vector<uint8_t> plane;
      for (int64_t p = 0; p < 4; ++p)
        plane.push_back(rgba[p * 4 + ch]);
      CHECK(a.select(0, ch).contiguous().to_vector<uint8_t>() == plane);
    }
    // No transform: ToTensor, float in [0, 1].
    const Tensor x = ds.get(1).image;
    CHECK(x.dtype() == DType::Float32);
    CHECK(x.to_vector<float>()[0] == static_cast<float>(rgb[0]) / 255.0f);
  }

  TEST_CASE("a fixed class list gives the list's indices to a folder holding some of the classes") {
    TempDir tmp("image_folder", "fixed");
    write_png(tmp.path / "n02" / "a.png", 2, 2, 3, 1);
    write_png(tmp.path / "n07" / "a.png", 2, 2, 3, 2);
    const fs::path list_file = tmp.path.string() + "_classes.tsv";  // beside the folder, not in it
    write_file(list_file, "index\twnid\tnames\n0\tn00\tzero\n1\tn01\tone\n2\tn02\ttwo, deux\n3\tn07\tseven\n");
    const std::vector<std::string> list = read_class_list(list_file.string());
    fs::remove(list_file);
    CHECK(list == std::vector<std::string>{"n00", "n01", "n02", "n07"});
    const ImageFolder ds(tmp.path.string(), nullptr, list);
    CHECK(ds.num_classes() == 4);
    REQUIRE(ds.size() == 2);
    CHECK(ds.label(0) == 2);
    CHECK(ds.label(1) == 3);
    // A folder the list does not name is an error naming it.
    write_png(tmp.path / "n99" / "a.png", 2, 2, 3, 3);
    CHECK_THROWS_WITH_AS(ImageFolder(tmp.path.string(), nullptr, list),
                         doctest::Contains("n99: 'n99' is not one of the 4 classes"), Error);
  }

  TEST_CASE("read_class_list: both forms of shared/data/imagenet; bad indices and repeats are errors") {
    TempDir tmp("image_folder", "lists");
    write_file(tmp.path / "synsets.txt", "n01440764 tench, Tinca tinca\nn01443537 goldfish\n");
    CHECK(read_class_list((tmp.path / "synsets.txt").string()) == std::vector<std::string>{"n01440764", "n01443537"});
    write_file(tmp.path / "gap.tsv", "index\twnid\tnames\n0\tn0\ta\n2\tn2\tc\n");
    CHECK_THROWS_WITH_AS(read_class_list((tmp.path / "gap.tsv").string()),
                         doctest::Contains("gap.tsv:3: got '2\tn2\tc' (expected index 1"), Error);
    write_file(tmp.path / "twice.txt", "n1 a\nn2 b\nn1 c\n");
    CHECK_THROWS_WITH_AS(read_class_list((tmp.path / "twice.txt").string()),
                         doctest::Contains("twice.txt:3: class 'n1' repeats line 1"), Error);
    CHECK_THROWS_WITH_AS(read_class_list((tmp.path / "absent.txt").string()),
                         doctest::Contains("absent.txt: cannot open"), Error);
  }

  TEST_CASE("bad input: missing folder, no classes, an empty class, an undecodable file, each naming the path") {
    TempDir tmp("image_folder", "errors");
    const std::string missing = (tmp.path / "nowhere").string();
    CHECK_THROWS_WITH_AS(ImageFolder{missing}, doctest::Contains((missing + ": no such folder").c_str()), Error);
    CHECK_THROWS_WITH_AS(ImageFolder{tmp.path.string()}, doctest::Contains("no class sub-folders"), Error);
    fs::create_directories(tmp.path / "empty");
    write_png(tmp.path / "full" / "a.png", 2, 2, 3, 1);
    CHECK_THROWS_WITH_AS(ImageFolder{tmp.path.string()},
                         doctest::Contains(((tmp.path / "empty").string() + ": no image files").c_str()), Error);
    fs::remove(tmp.path / "empty");
    write_file(tmp.path / "full" / "broken.jpg", "these bytes are not a JPEG");
    const ImageFolder ds(tmp.path.string());
    REQUIRE(ds.size() == 2);
    CHECK_NOTHROW(ds.get(0));  // a.png
    CHECK_THROWS_WITH_AS(
        ds.get(1), doctest::Contains(((tmp.path / "full" / "broken.jpg").string() + ": cannot decode").c_str()), Error);
    CHECK_THROWS_WITH_AS(decode_image(missing + ".png"), doctest::Contains((missing + ".png: cannot decode").c_str()),
                         Error);
  }

  TEST_CASE("a DataLoader batches transformed images; the batches do not depend on the workers") {
    TempDir tmp("image_folder", "loader");
    for (int i = 0; i < 6; ++i)
      write_png(tmp.path / (i % 2 ? "b" : "a") / (std::to_string(i) + ".png"), 20 + 3 * i, 17 + i, 3, i);
    auto ds =
        std::make_shared<ImageFolder>(tmp.path.string(), imagenet_train_transform(kImageNetMean, kImageNetStd, 8));
    std::vector<std::vector<float>> runs;
    for (int workers : {0, 3}) {
      DataLoader loader(ds, 4, /*shuffle=*/true, /*drop_last=*/false, /*seed=*/5, workers);
      std::vector<float> all;
      for (const Batch& b : loader) {
        CHECK(b.images.shape()[1] == 3);
        CHECK(b.images.shape()[2] == 8);
        const std::vector<float> v = b.images.to_vector<float>();
        all.insert(all.end(), v.begin(), v.end());
      }
      CHECK(all.size() == 6 * 3 * 8 * 8);
      runs.push_back(all);
    }
    CHECK(runs[0] == runs[1]);
  }

  TEST_CASE("pixel budget: Pillow's limit by default; a header that announces more is refused before decoding") {
    CHECK(max_image_pixels() == 178956970);  // Pillow: 2 * MAX_IMAGE_PIXELS = 2 * 89,478,485
    CHECK(kDefaultMaxImagePixels == 178956970);
    TempDir tmp("image_folder", "budget");
    // A 45-byte PNG that says 20000 x 20000 (1.2 GB of RGB once decoded).
    const std::string png = png_header_only(20000, 20000);
    CHECK(png.size() == 45u);
    write_file(tmp.path / "c" / "big.png", png);
    // A JPEG whose SOF0 says 20000 x 20000: stb_image would allocate and decode it all.
    write_file(tmp.path / "c" / "big.jpg", jpeg_claiming(20000, 20000));
    const ImageFolder ds(tmp.path.string());
    REQUIRE(ds.size() == 2);  // big.jpg, big.png: listing reads no pixels
    for (int64_t i = 0; i < 2; ++i) {
      CAPTURE(ds.path(i));
      CHECK_THROWS_WITH_AS(ds.get(i),
                           doctest::Contains((ds.path(i) + ": 20000x20000 (width x height) is 400000000 pixels, "
                                                           "more than the limit of 178956970")
                                                 .c_str()),
                           Error);
    }
    // The same files, un-patched, decode: the size in the header is all that was wrong.
    write_file(tmp.path / "c" / "big.jpg", jpeg_claiming(16, 16));
    CHECK(decode_image((tmp.path / "c" / "big.jpg").string()).shape() == Shape{3, 16, 16});
  }

  TEST_CASE("pixel budget: settable; at the limit an image decodes, one pixel over it does not") {
    TempDir tmp("image_folder", "budget_set");
    write_png(tmp.path / "c" / "a.png", 4, 3, 3, 1);   // 12 pixels
    write_png(tmp.path / "c" / "b.png", 13, 1, 3, 2);  // 13 pixels
    const ImageFolder ds(tmp.path.string());
    {
      PixelLimit limit(12);
      CHECK(max_image_pixels() == 12);
      CHECK(ds.raw_image(0).shape() == Shape{3, 3, 4});
      CHECK_THROWS_WITH_AS(ds.raw_image(1),
                           doctest::Contains((ds.path(1) + ": 13x1 (width x height) is 13 pixels, more than the limit "
                                                           "of 12 (set_max_image_pixels")
                                                 .c_str()),
                           Error);
    }
    CHECK(max_image_pixels() == kDefaultMaxImagePixels);
    CHECK(ds.raw_image(1).shape() == Shape{3, 1, 13});
    CHECK_THROWS_WITH_AS(set_max_image_pixels(0), doctest::Contains("got 0 (expected at least 1 pixel)"), Error);
    CHECK(max_image_pixels() == kDefaultMaxImagePixels);
  }

  TEST_CASE("pixel budget: a 60000x1 PNG decodes, but Resize(256) would make 15360000x256: refused, naming the file") {
    TempDir tmp("image_folder", "budget_resize");
    write_png(tmp.path / "c" / "strip.png", 60000, 1, 3, 1);
    CHECK(fs::file_size(tmp.path / "c" / "strip.png") < 2000u);
    const ImageFolder ds(tmp.path.string(), imagenet_eval_transform());
    CHECK(ds.raw_image(0).shape() == Shape{3, 1, 60000});  // 60000 pixels: within the budget
    CHECK_THROWS_WITH_AS(ds.get(0),
                         doctest::Contains((ds.path(0) + ": Resize(size=256, bilinear): a 1x60000 (height x width) "
                                                         "image would become 256x15360000, 3932160000 pixels, more "
                                                         "than the limit of 178956970")
                                               .c_str()),
                         Error);
  }

  TEST_CASE("a symbolic link loop inside a class folder adds nothing; links to other folders are followed") {
    TempDir tmp("image_folder", "loops");
    write_png(tmp.path / "c" / "a.png", 2, 2, 3, 1);
    write_png(tmp.path / "elsewhere" / "b.png", 2, 2, 3, 2);
    fs::create_directory_symlink(tmp.path / "c", tmp.path / "c" / "self");  // c/self -> c
    fs::create_directories(tmp.path / "c" / "sub");
    fs::create_directory_symlink("../..", tmp.path / "c" / "sub" / "up");  // c/sub/up -> the root, which holds c
    fs::create_directory_symlink(tmp.path / "elsewhere", tmp.path / "c" / "more");  // a plain link: followed
    const fs::path root = tmp.path / "root";
    fs::create_directories(root);
    fs::create_directory_symlink(tmp.path / "c", root / "c");  // a class folder that is a link: followed
    const ImageFolder ds(root.string());
    REQUIRE(ds.size() == 2);
    CHECK(fs::path(ds.path(0)).lexically_relative(root).generic_string() == "c/a.png");
    CHECK(fs::path(ds.path(1)).lexically_relative(root).generic_string() == "c/more/b.png");
  }
}
