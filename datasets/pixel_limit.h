#pragma once
// The pixel budget of one image: how many pixels (width x height) a decoded image, or the output
// of a resize, may have. A small file can announce a huge image (a 57-byte PNG header saying
// 20000 x 20000 asks for 1.2 GB of RGB; a 60000 x 1 strip resized so its short side is 256 asks
// for 11.8 GB), so decode_image (datasets/image_folder.h) checks the size in the file's header
// BEFORE decoding anything, and resize_bilinear / Resize (datasets/transforms.h) check the size
// they would make before allocating it. Either refuses with a qnn::Error that names the file or
// the transform, the sizes, and the limit.
//
// The default is Pillow's: Image.open raises DecompressionBombError above 2 * MAX_IMAGE_PIXELS =
// 2 * 89,478,485 = 178,956,970 pixels (it only warns between the two), so every image Pillow opens,
// qnn decodes too. At 3 bytes per pixel the limit is 537 MB for the decoded image.
//
// One process-wide setting, as Pillow's Image.MAX_IMAGE_PIXELS; safe to read from DataLoader
// workers, meant to be set once before they start.
#include <cstdint>
#include <string>

namespace qnn::data {

inline constexpr int64_t kDefaultMaxImagePixels = 178'956'970;

int64_t max_image_pixels();
// n >= 1; throws qnn::Error otherwise (there is no "unlimited": pass a large n).
void set_max_image_pixels(int64_t n);

// True when a height x width image is within the limit (no overflow for any sizes >= 0).
bool within_pixel_limit(int64_t height, int64_t width);
// height * width as text, exact even when it does not fit in 64 bits.
std::string pixel_count_text(int64_t height, int64_t width);

}  // namespace qnn::data
