#pragma once
// Round-to-nearest (RTN): every weight w becomes Q(w), the nearest level of its layer's alphabet
// (the memoryless scalar quantizer P2 (5)), with the same alphabets and step sizes as GPFQ. The
// papers define it but never report it; it is our baseline.
#include "quant/ptq/ptq_options.h"

namespace qnn::quant {

// Rounds every quantizable weight of `model` to its alphabet (no data needed).
PtqResult rtn(nn::Module& model, const PtqOptions& options, const LayerCallback& on_layer = {});

}  // namespace qnn::quant
