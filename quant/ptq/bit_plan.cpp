#include "quant/ptq/bit_plan.h"

#include <fstream>

#include "core/error.h"

namespace qnn::quant {

namespace {

LayerPrecision parse_value(const nlohmann::json& v, const LayerPrecision& fallback, const std::string& where) {
  LayerPrecision p = fallback;
  p.quantized = true;
  if (v.is_number_integer()) {
    const int bits = v.get<int>();
    QNN_CHECK(bits >= 1 && bits <= 16, "bit plan", where << ": got " << bits << " bits (expected 1..16)");
    p.bits = bits;
    if (p.family != AlphabetFamily::midtread && p.family != AlphabetFamily::midrise_zero)
      p.family = AlphabetFamily::midtread;
    return p;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "float") {
      p.quantized = false;
      return p;
    }
    if (s == "ternary" || s == "binary") {
      p.family = alphabet_family_from_string(s);
      return p;
    }
  }
  throw Error("bit plan: " + where + ": got " + v.dump() + " (expected 1..16, \"ternary\", \"binary\" or \"float\")");
}

}  // namespace

std::string LayerPrecision::describe() const {
  if (!quantized)
    return "float";
  if (family == AlphabetFamily::ternary || family == AlphabetFamily::binary)
    return to_string(family);
  return std::to_string(bits) + "-bit " + to_string(family);
}

BitPlan::BitPlan(nlohmann::json plan) : plan_(std::move(plan)) {
  QNN_CHECK(plan_.is_object(), "bit plan", "got " << plan_.dump() << " (expected a JSON object)");
  const LayerPrecision probe;
  for (const auto& [key, value] : plan_.items()) {
    if (key == "default") {
      parse_value(value, probe, "default");
    } else if (key == "kinds" || key == "layers") {
      QNN_CHECK(value.is_object(), "bit plan", "'" << key << "' is " << value.dump() << " (expected an object)");
      for (const auto& [name, v] : value.items()) {
        QNN_CHECK(key == "layers" || name == "Conv2d" || name == "Linear", "bit plan",
                  "unknown layer kind '" << name << "' (expected Conv2d or Linear)");
        parse_value(v, probe, key + "." + name);
      }
    } else {
      throw Error("bit plan: unknown key '" + key + "' (expected default, kinds, layers)");
    }
  }
}

BitPlan BitPlan::from_file(const std::string& path) {
  std::ifstream in(path);
  QNN_CHECK(in.good(), "bit plan", "cannot open " << path);
  try {
    return BitPlan(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw Error("bit plan: " + path + " is not valid JSON: " + e.what());
  }
}

LayerPrecision BitPlan::precision(const std::string& name, const std::string& kind,
                                  const LayerPrecision& fallback) const {
  if (plan_.contains("layers") && plan_["layers"].contains(name))
    return parse_value(plan_["layers"][name], fallback, "layers." + name);
  if (plan_.contains("kinds") && plan_["kinds"].contains(kind))
    return parse_value(plan_["kinds"][kind], fallback, "kinds." + kind);
  if (plan_.contains("default"))
    return parse_value(plan_["default"], fallback, "default");
  return fallback;
}

}  // namespace qnn::quant
