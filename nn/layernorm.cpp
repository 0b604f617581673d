#include "nn/layernorm.h"

#include <sstream>

#include "core/creation.h"
#include "core/ops/norm.h"

namespace qnn::nn {

LayerNorm::LayerNorm(Shape shape, float eps_, bool affine)
    : Module("LayerNorm"), normalized_shape(std::move(shape)), eps(eps_) {
  QNN_CHECK(!normalized_shape.empty() && numel_of(normalized_shape) > 0, "LayerNorm",
            "got normalized_shape " << shape_str(normalized_shape) << " (expected non-empty sizes > 0)");
  QNN_CHECK(eps > 0.0f, "LayerNorm", "got eps " << eps << " (expected > 0)");
  if (affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    bias = register_parameter("bias", zeros(normalized_shape));
  }
}

Tensor LayerNorm::forward(const Tensor& x) { return layer_norm(x, normalized_shape, weight, bias, eps); }

std::string LayerNorm::extra_repr() const {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < normalized_shape.size(); ++i)
    s << normalized_shape[i] << (normalized_shape.size() == 1 ? "," : i + 1 < normalized_shape.size() ? ", " : "");
  s << "), eps=" << eps << ", elementwise_affine=" << (weight.defined() ? "True" : "False");
  return s.str();
}

}  // namespace qnn::nn
