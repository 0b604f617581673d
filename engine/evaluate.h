#pragma once
// Evaluation of a classifier on a dataset: top-1, top-5 and mean cross-entropy, in eval mode and
// without gradients. Used by `qnn eval`, by training (test accuracy per epoch) and by the PTQ
// pipeline.
#include <functional>
#include <memory>

#include "core/config.h"
#include "datasets/dataset.h"
#include "nn/module.h"

namespace qnn::engine {

struct EvalResult {
  int64_t count = 0;
  double top1 = 0.0;  // percent
  double top5 = 0.0;  // percent
  double loss = 0.0;  // mean cross-entropy (natural log)
  double seconds = 0.0;

  QNN_CONFIG(EvalResult, count, top1, top5, loss, seconds)
};

struct EvalOptions {
  int64_t batch_size = 256;
  int workers = 2;
  // Called after each batch with (batches done, batches in all).
  std::function<void(int64_t, int64_t)> on_batch;
};

EvalResult evaluate(nn::Module& model, std::shared_ptr<const data::Dataset> dataset, const EvalOptions& options = {});

// Counts of correct top-1 and top-5 predictions of logits [N, C] against labels [N].
void count_correct(const Tensor& logits, const Tensor& labels, int64_t& top1, int64_t& top5);

}  // namespace qnn::engine
