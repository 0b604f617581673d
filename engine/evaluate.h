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

// Accuracy never flatters: top-k follows torch.topk (higher logits first, equal logits in index
// order, as argmax breaks ties), so a constant output scores as one class, not as every class; and
// when any logit is NaN or infinite, top1 and top5 are NaN and `nonfinite` counts the images
// whose logits were, so a broken model is reported as broken, never with an accuracy.
struct EvalResult {
  int64_t count = 0;
  double top1 = 0.0;  // percent; NaN when nonfinite > 0
  double top5 = 0.0;  // percent; NaN when nonfinite > 0
  double loss = 0.0;  // mean cross-entropy (natural log); NaN or inf as it comes
  double seconds = 0.0;
  int64_t nonfinite = 0;  // images with a NaN or infinite logit

  QNN_CONFIG(EvalResult, count, top1, top5, loss, seconds, nonfinite)
};

struct EvalOptions {
  int64_t batch_size = 256;
  int workers = 2;
  // Called after each batch with (batches done, batches in all).
  std::function<void(int64_t, int64_t)> on_batch;
};

EvalResult evaluate(nn::Module& model, std::shared_ptr<const data::Dataset> dataset, const EvalOptions& options = {});

// Adds the correct top-1 and top-5 predictions of logits [N, C] against labels [N] (ranks as
// torch.topk: a class ranks below every higher logit and every equal logit of a lower index).
// Rows with a NaN or infinite logit are not counted as correct; they are added to *nonfinite.
void count_correct(const Tensor& logits, const Tensor& labels, int64_t& top1, int64_t& top5,
                   int64_t* nonfinite = nullptr);

}  // namespace qnn::engine
