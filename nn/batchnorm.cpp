#include "nn/batchnorm.h"

#include <sstream>

#include "core/creation.h"
#include "core/ops/norm.h"

namespace qnn::nn {

BatchNorm::BatchNorm(const char* type_name, int64_t c, const BatchNormArgs& a, int64_t min_dim, int64_t max_dim)
    : Module(type_name), num_features(c), args(a), min_dim_(min_dim), max_dim_(max_dim) {
  QNN_CHECK(c > 0, type_name, "got num_features " << c << " (expected > 0)");
  QNN_CHECK(a.eps > 0.0f && a.momentum >= 0.0f && a.momentum <= 1.0f, type_name,
            "got eps " << a.eps << ", momentum " << a.momentum << " (expected eps > 0 and 0 <= momentum <= 1)");
  if (a.affine) {
    weight = register_parameter("weight", ones({c}));
    bias = register_parameter("bias", zeros({c}));
  }
  if (a.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({c}));
    running_var = register_buffer("running_var", ones({c}));
  }
}

Tensor BatchNorm::forward(const Tensor& x) {
  QNN_CHECK(x.dim() >= min_dim_ && x.dim() <= max_dim_ && x.size(1) == num_features, type_name(),
            "got input " << shape_str(x.shape()) << " (expected " << (max_dim_ == 4 ? "[N, C, H, W]" : "[N, C(, L)]")
                         << " with C = " << num_features << ")");
  // Without running statistics there is nothing else to normalize with: batch statistics always.
  const bool use_batch_stats = is_training() || !running_mean.defined();
  return batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, args.momentum, args.eps);
}

std::string BatchNorm::extra_repr() const {
  std::ostringstream s;
  s << num_features << ", eps=" << args.eps << ", momentum=" << args.momentum
    << ", affine=" << (args.affine ? "True" : "False")
    << ", track_running_stats=" << (args.track_running_stats ? "True" : "False");
  return s.str();
}

}  // namespace qnn::nn
