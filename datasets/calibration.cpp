#include "datasets/calibration.h"

#include "core/error.h"
#include "core/ops.h"

namespace qnn::data {

CalibrationStream::CalibrationStream(std::shared_ptr<const Dataset> pool, uint64_t seed)
    : pool_(std::move(pool)), gen_(seed) {
  shuffle();
}

Tensor CalibrationStream::next(int64_t m) {
  QNN_CHECK(m <= pool_->size(), "ptq",
            "m = " << m << " calibration images per layer is more than the " << pool_->size()
                   << " training images available (expected m <= " << pool_->size() << ")");
  if (cursor_ + m > pool_->size()) {
    shuffle();
    ++reshuffles_;
  }
  std::vector<Tensor> images;
  images.reserve(m);
  Generator unused(0);  // the evaluation transform draws nothing
  for (int64_t i = 0; i < m; ++i)
    images.push_back(pool_->get(order_[cursor_ + i], unused).image);
  cursor_ += m;
  return stack(images, 0);
}

void CalibrationStream::shuffle() {
  order_.resize(pool_->size());
  for (int64_t i = 0; i < pool_->size(); ++i)
    order_[i] = i;
  for (int64_t i = pool_->size() - 1; i > 0; --i)
    std::swap(order_[i], order_[gen_.integer(0, i + 1)]);
  cursor_ = 0;
}

}  // namespace qnn::data
