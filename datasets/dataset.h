#pragma once
// Dataset: a random-access collection of (image, label) examples. Randomness (augmentation) is
// never drawn from a shared source: get() takes the Generator to draw from, so the DataLoader can
// hand each sample its own generator derived from (seed, epoch, index), and a sample's
// augmentation does not depend on which worker thread built it or when.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"

namespace qnn::data {

struct Example {
  Tensor image;  // [C, H, W], float32 after the usual transforms
  int64_t label = 0;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // The example at i in [0, size()), random transforms drawing from `gen`. Must be thread-safe:
  // DataLoader workers call it concurrently on one dataset.
  virtual Example get(int64_t i, Generator& gen) const = 0;
  // The example at i with a generator derived from i alone (sample_seed(0, 0, i)), so repeated
  // calls agree. Subclasses that override get(i, gen) add `using Dataset::get;` to keep this one.
  Example get(int64_t i) const;
};

// The seed of the generator for sample `index` in `epoch` of a run seeded with `seed`: a hash
// (splitmix64 rounds), so nearby inputs give unrelated streams.
uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index);

// The examples of `base` at `indices`, in that order (a calibration set, a train/val split).
// Example i of the subset is example indices[i] of base, drawn with the generator given to get().
class Subset : public Dataset {
 public:
  Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  using Dataset::get;
  Example get(int64_t i, Generator& gen) const override;
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
};

}  // namespace qnn::data
