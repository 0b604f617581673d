#pragma once
// A batch's memory, estimated before it is allocated: `--batch 1000000` must be an error that
// says so, not a process the kernel kills at 24 GB without a word.
#include <cstdint>

#include "datasets/dataset.h"
#include "nn/module.h"

namespace qnn::engine {

// Bytes one training step of `batch` images takes, measured on probes of 1 and 2 images of
// `data` (forward, loss, backward; peak tensor bytes), extrapolated linearly. The model's
// parameters and buffers are restored and its gradients dropped afterwards.
int64_t estimate_step_bytes(nn::Module& model, const data::Dataset& data, int64_t batch);

// Throws qnn::Error when a training step of `batch` images would need more than 90% of this
// machine's physical memory. Batches up to 512 are not probed (they fit every model qnn has on
// any machine it runs on, and the probe would draw from random streams that dropout uses).
void check_batch_fits(nn::Module& model, const data::Dataset& data, int64_t batch);

}  // namespace qnn::engine
