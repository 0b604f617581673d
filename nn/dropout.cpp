#include "nn/dropout.h"

#include <sstream>

#include "core/ops/dropout.h"

namespace qnn::nn {

Dropout::Dropout(float p_, Generator& gen) : Module("Dropout"), p(p_), gen_(&gen) {
  QNN_CHECK(p >= 0.0f && p < 1.0f, "Dropout", "got p = " << p << " (expected 0 <= p < 1)");
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training(), *gen_); }

std::string Dropout::extra_repr() const {
  std::ostringstream s;
  s << "p=" << p;
  return s.str();
}

}  // namespace qnn::nn
