#pragma once
// Mixed precision: how many bits each layer gets. A plan is JSON, most specific entry wins:
//   {"default": 4,                                  every layer not named below
//    "kinds":   {"Linear": 8, "Conv2d": 4},         by layer kind
//    "layers":  {"conv1": 8, "linear": "float"}}    by module path
// A value is a bit count (1..16), "ternary", "binary" or "float" (the layer is left unquantized).
// The empty plan gives every layer the command's --bits.
#include <nlohmann/json.hpp>
#include <string>

#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

struct LayerPrecision {
  bool quantized = true;
  AlphabetFamily family = AlphabetFamily::midtread;
  int bits = 4;
  std::string describe() const;  // "4-bit midtread", "ternary", "float"
};

class BitPlan {
 public:
  BitPlan() = default;
  // Checks the plan's keys and values; throws qnn::Error naming the bad entry.
  explicit BitPlan(nlohmann::json plan);
  static BitPlan from_file(const std::string& path);
  // The precision of layer `name` of kind `kind` ("Conv2d"/"Linear"); `fallback` when the plan
  // says nothing (the family of a numeric entry is the fallback's when that is midtread or
  // midrise0).
  LayerPrecision precision(const std::string& name, const std::string& kind, const LayerPrecision& fallback) const;
  const nlohmann::json& json() const { return plan_; }
  bool empty() const { return plan_.empty(); }

 private:
  nlohmann::json plan_ = nlohmann::json::object();
};

}  // namespace qnn::quant
