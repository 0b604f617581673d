#pragma once
// GPFQ over a whole network, P2 Algorithm 1 (quant/ptq/gpfq.cpp), with the sparse variants of P2
// section 4 (PtqMethod::gpfq_soft / gpfq_hard) and the dagger variant (last layer float + bias
// correction, PtqOptions::bias_correct).
#include "quant/ptq/ptq_options.h"

namespace qnn::quant {

// `analog` is the trained model (left unchanged); `quantized` must start as an exact copy of it
// and ends quantized. Both in eval mode. `next_batch(m)` gives a fresh batch of m calibration
// images for every layer.
PtqResult gpfq(nn::Module& analog, nn::Module& quantized, const CalibrationBatches& next_batch,
               const PtqOptions& options, const LayerCallback& on_layer = {});

}  // namespace qnn::quant
