#include "nn/drop_path.h"

#include <sstream>
#include <vector>

#include "core/creation.h"
#include "core/ops/elementwise.h"

namespace qnn::nn {

DropPath::DropPath(float p_, Generator& gen) : Module("DropPath"), p(p_), gen_(&gen) {
  QNN_CHECK(p >= 0.0f && p < 1.0f, "DropPath", "got p = " << p << " (expected 0 <= p < 1)");
}

Tensor DropPath::forward(const Tensor& x) {
  QNN_CHECK(x.dim() >= 1, "DropPath", "got a 0-d input (expected [B, ...])");
  if (!is_training() || p == 0.0f)
    return x;
  // The mask [B, 1, ..., 1] holds 0 or 1 / (1 - p); the product broadcasts it over each sample.
  const int64_t B = x.size(0);
  const float scale = 1.0f / (1.0f - p);
  std::vector<float> mask(B);
  for (float& m : mask)
    m = gen_->uniform() >= p ? scale : 0.0f;
  Shape shape(x.dim(), 1);
  shape[0] = B;
  return mul(x, from_vector<float>(mask, shape).to(x.device()));
}

std::string DropPath::extra_repr() const {
  std::ostringstream s;
  s << "drop_prob=" << p;
  return s.str();
}

}  // namespace qnn::nn
