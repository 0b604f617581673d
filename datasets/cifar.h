#pragma once
// CIFAR-10 and CIFAR-100 from the official binary release, held in memory as uint8.
//   CIFAR-10:  data_batch_1..5.bin (train), test_batch.bin (test); 10,000 records per file,
//              record = 1 label byte + 3072 pixel bytes.
//   CIFAR-100: train.bin (50,000 records), test.bin (10,000); record = 1 coarse label byte +
//              1 fine label byte + 3072 pixel bytes. The label used is the fine one (100 classes).
// Pixels are 1024 R, then 1024 G, then 1024 B bytes, each plane 32x32 row-major: already the
// [3, 32, 32] CHW layout, so an image is a view into one [N, 3, 32, 32] uint8 tensor.
// Layout and verification facts: shared/data/SOURCES.md section 1.
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/transforms.h"

namespace qnn::data {

enum class CifarVariant { Cifar10, Cifar100 };
enum class Split { Train, Test };

class Cifar : public Dataset {
 public:
  static constexpr int64_t kChannels = 3, kHeight = 32, kWidth = 32;
  static constexpr int64_t kImageBytes = kChannels * kHeight * kWidth;  // 3072

  // The official files of `split` in `dir` (e.g. shared/data/cifar-10-batches-bin), each checked
  // to have the official size (30,730,000 bytes for a CIFAR-10 batch).
  Cifar(const std::string& dir, CifarVariant variant, Split split, TransformPtr transform = nullptr);
  // Any files in the variant's record format, concatenated in order; each must hold a whole,
  // non-zero number of records.
  Cifar(CifarVariant variant, const std::vector<std::string>& files, TransformPtr transform = nullptr);

  // The official file names of a split, in order (relative to the folder).
  static std::vector<std::string> official_files(CifarVariant variant, Split split);
  static int64_t record_bytes(CifarVariant variant) { return kImageBytes + (variant == CifarVariant::Cifar10 ? 1 : 2); }

  int64_t size() const override { return images_.size(0); }
  using Dataset::get;
  // image = transform(raw_image(i)); with no transform, ToTensor (float32 in [0, 1]).
  Example get(int64_t i, Generator& gen) const override;

  // Raw access, for speed: no copies. Copies of a Cifar share these tensors.
  const Tensor& images() const { return images_; }                // [N, 3, 32, 32] uint8
  const Tensor& labels() const { return labels_; }                // [N] int64 (fine labels for CIFAR-100)
  const Tensor& coarse_labels() const { return coarse_labels_; }  // [N] int64; CIFAR-100 only (else undefined)
  const uint8_t* pixels(int64_t i) const;                         // the 3072 bytes of image i, CHW
  int64_t label(int64_t i) const;
  Tensor raw_image(int64_t i) const;  // [3, 32, 32] uint8 view of image i

  CifarVariant variant() const { return variant_; }
  int64_t num_classes() const { return variant_ == CifarVariant::Cifar10 ? 10 : 100; }
  const TransformPtr& transform() const { return transform_; }
  // Not synchronized with readers: set it before a DataLoader runs on this dataset. To use two
  // transforms on one split, copy the Cifar (the pixels are shared, not copied).
  void set_transform(TransformPtr transform) { transform_ = std::move(transform); }

 private:
  void load(const std::vector<std::string>& paths, int64_t records_per_file);

  CifarVariant variant_;
  TransformPtr transform_;
  Tensor images_, labels_, coarse_labels_;
};

}  // namespace qnn::data
