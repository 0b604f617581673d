#include "engine/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/autograd.h"
#include "core/ops/loss.h"
#include "datasets/dataloader.h"

namespace qnn::engine {

void count_correct(const Tensor& logits, const Tensor& labels, int64_t& top1, int64_t& top5, int64_t* nonfinite) {
  QNN_CHECK(logits.dim() == 2 && labels.dim() == 1 && logits.size(0) == labels.size(0), "count_correct",
            "got logits " << shape_str(logits.shape()) << " and labels " << shape_str(labels.shape())
                          << " (expected [N, C] and [N])");
  const Tensor l = logits.contiguous();
  const float* p = l.data<float>();
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  const int64_t n = l.size(0), c = l.size(1);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * c;
    QNN_CHECK(y[i] >= 0 && y[i] < c, "count_correct", "got label " << y[i] << " (expected 0.." << c - 1 << ")");
    if (!std::all_of(row, row + c, [](float v) { return std::isfinite(v); })) {
      if (nonfinite)
        ++*nonfinite;
      continue;  // no accuracy for a row that has none to give
    }
    // The label's rank in torch.topk's order: higher logits, and equal logits of lower index.
    const float s = row[y[i]];
    int64_t rank = 0;
    for (int64_t k = 0; k < c; ++k)
      rank += row[k] > s || (row[k] == s && k < y[i]);
    top1 += rank == 0;
    top5 += rank < 5;
  }
}

EvalResult evaluate(nn::Module& model, std::shared_ptr<const data::Dataset> dataset, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  data::DataLoader loader(dataset, options.batch_size, /*shuffle=*/false, /*drop_last=*/false, /*seed=*/0,
                          options.workers);
  EvalResult r;
  int64_t top1 = 0, top5 = 0;
  double loss_sum = 0.0;
  const int64_t batches = loader.size();
  for (const data::Batch& batch : loader) {
    const Tensor logits = model(batch.images);
    loss_sum += cross_entropy(logits, batch.labels, Reduction::Sum).item();
    count_correct(logits, batch.labels, top1, top5, &r.nonfinite);
    r.count += batch.labels.size(0);
    if (options.on_batch)
      options.on_batch(batch.index + 1, batches);
  }
  model.train(was_training);
  if (r.count > 0) {
    r.top1 = r.nonfinite ? NAN : 100.0 * static_cast<double>(top1) / static_cast<double>(r.count);
    r.top5 = r.nonfinite ? NAN : 100.0 * static_cast<double>(top5) / static_cast<double>(r.count);
    r.loss = loss_sum / static_cast<double>(r.count);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace qnn::engine
