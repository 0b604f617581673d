#pragma once
// The calibration stream of post-training quantization: training images in a seeded random order,
// m at a time, each batch fresh (GPFQ's Algorithm 1 draws a new batch X_i for every layer); when
// the order is used up it is reshuffled and counted, so a run can say that images were reused.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/generator.h"
#include "core/tensor.h"
#include "datasets/dataset.h"

namespace qnn::data {

class CalibrationStream {
 public:
  CalibrationStream(std::shared_ptr<const Dataset> pool, uint64_t seed);
  // The next m images, stacked [m, ...]. Throws qnn::Error when m exceeds the pool.
  Tensor next(int64_t m);
  int64_t reshuffles() const { return reshuffles_; }

 private:
  void shuffle();
  std::shared_ptr<const Dataset> pool_;
  Generator gen_;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0, reshuffles_ = 0;
};

}  // namespace qnn::data
