#pragma once
// Post-training quantization passes over a trained model: round-to-nearest (the baseline) and
// GPFQ with its sparse variants (P2 Algorithm 1). A few lines from C++:
//
//   auto analog = nn::make_model("resnet20", {}), quantized = nn::make_model("resnet20", {});
//   ... load the same weights into both, eval() both ...
//   quant::PtqOptions opt;  opt.alphabet.bits = 4;  opt.alphabet.C = 1.16;  opt.m = 1024;
//   quant::PtqResult r = quant::gpfq(*analog, *quantized, batches, opt);
//   quant::save_quantized("q.safetensors", quantized->state_dict(), r.quantized);
//
// Weights only: activations stay float, biases and norms stay float (P2 section 5).
#include "quant/ptq/bn_fold.h"
#include "quant/ptq/gpfq.h"
#include "quant/ptq/ptq_options.h"
#include "quant/ptq/rtn.h"
