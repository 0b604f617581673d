// The image decoder path of ImageFolder (datasets/image_folder.h decode_image, stb_image's JPEG
// and PNG decoders) on any bytes, then the ImageNet eval geometry (Resize, CenterCrop) scaled down.
//
// Inputs whose header declares more than kMaxPixels are skipped: decode_image has no pixel budget
// yet (issue 12 finding 9), so a 100-byte header asking for 20000 x 20000 would only rediscover
// that as an out-of-memory. Drop the filter once decode_image checks a limit from the header.
#include <algorithm>

#include "datasets/image_folder.h"
#include "datasets/jpeg_check.h"
#include "datasets/transforms.h"
#include "tests/fuzz/fuzz_target.h"

// stb_image's implementation is compiled into qnn_datasets (datasets/image_folder.cpp).
#include <stb_image.h>

namespace {
constexpr int64_t kMaxPixels = int64_t{1} << 20;
}

QNN_FUZZ_TARGET(image) {
  const char* kName = "image";
  if (size > static_cast<size_t>(INT32_MAX))
    return 0;
  qnn::fuzz::expect_qnn_errors_only(kName, [&] {
    // stbi_info builds the Huffman tables that come before the frame header: check them first,
    // as decode_image does (datasets/jpeg_check.h).
    qnn::data::check_jpeg_tables(data, size, "input");
    int w = 0, h = 0, channels = 0;
    if (stbi_info_from_memory(data, static_cast<int>(size), &w, &h, &channels) &&
        static_cast<int64_t>(w) * static_cast<int64_t>(h) > kMaxPixels)
      return;
    const std::string in = qnn::fuzz::write_scratch("image", data, size);
    const qnn::Tensor image = qnn::data::decode_image(in);
    FUZZ_ASSERT(kName, image.dtype() == qnn::DType::UInt8 && image.shape() == (qnn::Shape{3, h, w}));
    // Resize(32) + CenterCrop(28), the eval recipe at an eighth of its size, for shapes whose
    // resized longer side stays small (a 1 x 60000 image would not: finding 9 again).
    if (std::max(w, h) <= 64 * std::min(w, h)) {
      qnn::Generator gen(1);
      const qnn::Tensor resized = qnn::data::Resize(32)(image, gen);
      const qnn::Tensor cropped = qnn::data::CenterCrop(28)(resized, gen);
      FUZZ_ASSERT(kName, cropped.shape() == (qnn::Shape{3, 28, 28}));
    }
  });
  return 0;
}
