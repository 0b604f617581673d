#pragma once
// nn::BatchNorm1d / BatchNorm2d, as torch.nn: training normalizes with the batch statistics and
// updates running_mean/running_var (momentum 0.1, unbiased batch variance); eval normalizes with
// the running statistics.
//
// No num_batches_tracked buffer: it only matters for momentum = None (cumulative averages), which
// qnn does not offer, and the pretrained CIFAR checkpoints do not have it. load_state_dict accepts
// and drops it, so state dicts saved by recent PyTorch still load strictly.
#include "nn/module.h"

namespace qnn::nn {

struct BatchNormArgs {
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool affine = true;               // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;  // false: no buffers, batch statistics in eval too
};

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t num_features;
  BatchNormArgs args;
  Tensor weight, bias;               // [C], undefined without affine
  Tensor running_mean, running_var;  // [C], undefined without track_running_stats

 protected:
  // min_dim..max_dim: the input ranks the concrete class accepts (1d: 2-3, 2d: 4).
  BatchNorm(const char* type_name, int64_t num_features, const BatchNormArgs& args, int64_t min_dim, int64_t max_dim);
  std::vector<std::string> ignored_state_keys() const override { return {"num_batches_tracked"}; }

 private:
  int64_t min_dim_, max_dim_;
};

// x [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, const BatchNormArgs& args = {})
      : BatchNorm("BatchNorm1d", num_features, args, 2, 3) {}
};

// x [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, const BatchNormArgs& args = {})
      : BatchNorm("BatchNorm2d", num_features, args, 4, 4) {}
};

}  // namespace qnn::nn
