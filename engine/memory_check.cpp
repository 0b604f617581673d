#include "engine/memory_check.h"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "core/allocator.h"
#include "core/autograd.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/ops.h"

namespace qnn::engine {

namespace {

// Peak tensor bytes of one forward + backward on the first n images of `data`.
int64_t probe(nn::Module& model, const data::Dataset& data, int64_t n) {
  Generator gen(0);
  std::vector<Tensor> images;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    const data::Example ex = data.get(i % data.size(), gen);
    images.push_back(ex.image);
    labels.push_back(ex.label);
  }
  const Tensor x = stack(images, 0);
  const Tensor y = from_vector<int64_t>(labels, {n});
  reset_peak_memory();
  const int64_t base = static_cast<int64_t>(cpu_allocator_stats().allocated_bytes);
  {
    const Tensor loss = cross_entropy(model(x), y);
    loss.backward();
  }
  const int64_t peak = static_cast<int64_t>(cpu_allocator_stats().peak_allocated_bytes) - base;
  for (const Tensor& p : model.parameters())
    p.zero_grad();
  return std::max<int64_t>(peak, 0);
}

}  // namespace

int64_t estimate_step_bytes(nn::Module& model, const data::Dataset& data, int64_t batch) {
  QNN_CHECK(data.size() > 0, "check_batch_fits", "got an empty dataset (expected images to probe)");
  // The probe steps the model in training mode (batch norm updates its running statistics):
  // keep every value and put it back.
  nn::StateDict saved;
  for (const auto& [name, t] : model.state_dict())
    saved.emplace_back(name, t.clone().detach());
  const int64_t one = probe(model, data, 1), two = probe(model, data, 2);
  {
    NoGradGuard no_grad;
    const nn::StateDict now = model.state_dict();
    for (size_t i = 0; i < now.size(); ++i)
      copy_(now[i].second, saved[i].second);
  }
  const int64_t per_image = std::max<int64_t>(two - one, 1), fixed = std::max<int64_t>(one - per_image, 0);
  return fixed + per_image * batch;
}

void check_batch_fits(nn::Module& model, const data::Dataset& data, int64_t batch) {
  if (batch <= 512)
    return;
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  const double need = static_cast<double>(estimate_step_bytes(model, data, batch));
  QNN_CHECK(
      need <= 0.9 * physical, "train",
      "a batch of " << batch << " images needs about " << need / 1e9
                    << " GB per step (measured on 1 and 2 images), and "
                    << "this machine has " << physical / 1e9 << " GB (expected a batch that fits, e.g. --batch "
                    << std::max<int64_t>(1, static_cast<int64_t>(0.5 * physical / need * static_cast<double>(batch)))
                    << ")");
}

}  // namespace qnn::engine
