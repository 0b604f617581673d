#pragma once
// Image classification data in the folder layout torchvision's ImageFolder reads (and ImageNet is
// distributed in once unpacked):
//   ROOT/<class>/<any sub-folders>/<file>.JPEG
// Classes are the sub-folder names of ROOT, sorted (byte order), numbered 0..C-1; or, given a
// fixed class list (e.g. the 1000 ImageNet wnids, shared/data/imagenet/imagenet_classes.tsv), the
// position of the folder's name in that list, so that a folder holding some of the classes still
// gets the standard indices. Files are .jpg/.jpeg/.png (any case), found recursively (following
// symbolic links, as os.walk(followlinks=True)) and sorted by folder then name, as torchvision
// does; unlike os.walk, each folder is listed once, so a link that loops back (class/x -> class)
// adds nothing instead of repeating the images until the path is too long. Images are decoded
// when asked for (get), by stb_image, to RGB: a grayscale image is copied into the three channels
// and an alpha channel dropped, as PIL's convert("RGB").
//
// Pixel budget (datasets/pixel_limit.h): an image whose header announces more than
// max_image_pixels() pixels (Pillow's 178,956,970 by default; set_max_image_pixels to change) is
// refused before it is decoded, and so is a resize that would make more.
//
// Decoding differs from PIL's (libjpeg) by a few levels out of 255 at some pixels: stb_image's
// IDCT, chroma upsampling and YCbCr->RGB rounding are its own. The effect on the eval pipeline is
// measured in tests/datasets/test_imagenet_transforms.cpp.
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/pixel_limit.h"
#include "datasets/transforms.h"

namespace qnn::data {

// The file decoded to uint8 [3, H, W] RGB. The tensor views the decoder's interleaved [H, W, 3]
// buffer as channels-first (strides {1, 3W, 3}): no copy; the transforms read any strides.
// A missing or undecodable file, or one whose header announces more than max_image_pixels()
// pixels (checked before decoding), throws qnn::Error naming the path (and the sizes).
Tensor decode_image(const std::string& path);

// A class list file, one class name per line, in either of the two forms shared/data/imagenet
// holds: "index<TAB>wnid<TAB>names" with a header line starting "index" (imagenet_classes.tsv;
// each index must equal the line's position), or "wnid names..." (synset_words.txt). Names must
// be unique.
std::vector<std::string> read_class_list(const std::string& path);

class ImageFolder : public Dataset {
 public:
  // The images under `root`. With `classes` empty, the classes are root's sub-folders, sorted, and
  // each must hold at least one image (torchvision refuses empty ones too). With a class list,
  // label = the folder's position in it; every sub-folder must be named in the list, classes of
  // the list without a folder simply have no images. `transform` gets the decoded uint8 image;
  // none means ToTensor (float32 in [0, 1]).
  explicit ImageFolder(const std::string& root, TransformPtr transform = nullptr,
                       std::vector<std::string> classes = {});

  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  using Dataset::get;
  // Decoded, then transformed; an error of the transform (e.g. a resize beyond the pixel limit)
  // is rethrown with the file's path in front.
  Example get(int64_t i, Generator& gen) const override;

  const std::string& root() const { return root_; }
  const std::vector<std::string>& classes() const { return classes_; }
  int64_t num_classes() const { return static_cast<int64_t>(classes_.size()); }
  const std::string& path(int64_t i) const;  // root/<class>/.../<file>
  int64_t label(int64_t i) const;
  Tensor raw_image(int64_t i) const { return decode_image(path(i)); }

  const TransformPtr& transform() const { return transform_; }
  // Not synchronized with readers: set it before a DataLoader runs on this dataset.
  void set_transform(TransformPtr transform) { transform_ = std::move(transform); }

 private:
  std::string root_;
  TransformPtr transform_;
  std::vector<std::string> classes_;
  std::vector<std::string> paths_;
  std::vector<int64_t> labels_;
};

}  // namespace qnn::data
