#pragma once
// One entry point for the QAT quantizers: which quantizer, how many bits, and the grouping
// (per tensor, or per output channel = per row of dim 0: PARQ's ImageNet runs, Tables 2-3, are
// per channel; its authors' CIFAR script is per tensor).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "quant/quantizers/alphabet.h"
#include "quant/quantizers/uniform.h"

namespace qnn::quant {

struct QuantizerSpec {
  int bits = 2;                             // 1..4; 0 = ternary (the PARQ code's convention)
  std::string method = "lsbq";              // lsbq (greedy; the paper's) or uniform
  bool optimal = false;                     // lsbq: the exact least-squares fit (ternary and 2 bits)
  float ternary_mult = 1.1f;                // lsbq ternary heuristic: v = mult mean|u|
  UniformScale scale = UniformScale::mean;  // uniform
  bool midtread = false;                    // uniform: midtread (0 a level) instead of midrise

  std::string describe() const;  // e.g. "lsbq 2-bit", "lsbq ternary (1.1 mean)"
  nlohmann::json to_json() const;
  static QuantizerSpec from_json(const nlohmann::json& j);
};

// q-hat and Q for `rows` equal groups of x (rows = 1: per tensor).
struct GroupQuantization {
  std::vector<float> q_hat;  // same size as x
  std::vector<Alphabet> Q;   // one per group
};

// Quantizes one group: returns Q and writes q-hat.
Alphabet quantize_group(std::span<const float> u, const QuantizerSpec& spec, std::span<float> q_hat);
// Quantizes x viewed as [rows, x.size() / rows].
GroupQuantization quantize_groups(std::span<const float> x, int64_t rows, const QuantizerSpec& spec);

}  // namespace qnn::quant
