#include "nn/linear.h"

#include <cmath>

#include "core/creation.h"
#include "core/ops/elementwise.h"
#include "core/ops/linalg.h"
#include "nn/init.h"

namespace qnn::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias, Generator& gen)
    : Module("Linear"), in_features(in), out_features(out) {
  QNN_CHECK(in > 0 && out > 0, "Linear", "got in_features " << in << ", out_features " << out << " (expected > 0)");
  weight = register_parameter("weight", Tensor::empty({out, in}));
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (with_bias) {
    bias = register_parameter("bias", Tensor::empty({out}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor Linear::forward(const Tensor& x) {
  QNN_CHECK(x.dim() >= 1 && x.size(-1) == in_features, "Linear",
            "got input " << shape_str(x.shape()) << " (expected [*, " << in_features << "])");
  // [*, in] runs as one [rows, in] x [in, out] product: a batched matmul against the broadcast
  // weight would make one small GEMM per leading index and, in backward, a weight gradient per
  // index before summing them.
  if (input_hook)
    input_hook(x);
  const Tensor x2 = x.dim() > 2 ? x.reshape({-1, in_features}) : x;
  Tensor y = matmul(x2, weight.t());
  if (bias.defined())
    y = add(y, bias);
  if (x.dim() <= 2)
    return y;
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  return y.reshape(out_shape);
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=" + (bias.defined() ? "True" : "False");
}

}  // namespace qnn::nn
