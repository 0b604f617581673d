#include "datasets/pixel_limit.h"

#include <atomic>

#include "core/error.h"

namespace qnn::data {

namespace {
std::atomic<int64_t> limit{kDefaultMaxImagePixels};
}  // namespace

int64_t max_image_pixels() { return limit.load(std::memory_order_relaxed); }

void set_max_image_pixels(int64_t n) {
  QNN_CHECK(n >= 1, "set_max_image_pixels", "got " << n << " (expected at least 1 pixel)");
  limit.store(n, std::memory_order_relaxed);
}

bool within_pixel_limit(int64_t height, int64_t width) {
  // h * w <= L  <=>  h <= floor(L / w) for w >= 1: no product, so no overflow.
  if (height <= 0 || width <= 0)
    return true;
  return height <= max_image_pixels() / width;
}

std::string pixel_count_text(int64_t height, int64_t width) {
  if (height <= 0 || width <= 0)
    return "0";
  // Two int64 below 2^63 multiply to below 2^126: exact in 128 bits, written digit by digit.
  unsigned __int128 n = static_cast<unsigned __int128>(height) * static_cast<unsigned __int128>(width);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(n % 10)));
    n /= 10;
  } while (n > 0);
  return digits;
}

}  // namespace qnn::data
