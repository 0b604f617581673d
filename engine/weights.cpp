#include "engine/weights.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/error.h"
#include "core/io/safetensors.h"
#include "datasets/transforms.h"
#include "quant/quantized_weights.h"

namespace qnn::engine {

namespace {

constexpr const char* kCheckpointPrefix = "model.";

std::vector<float> parse_floats(const std::string& text, const std::string& key) {
  std::vector<float> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      values.push_back(std::stof(item));
    } catch (const std::exception&) {
      throw Error("weights metadata: " + key + " = '" + text + "' (expected comma-separated numbers)");
    }
  }
  return values;
}

std::string join_floats(const std::vector<float>& values) {
  std::ostringstream out;
  out << std::setprecision(9);
  for (size_t i = 0; i < values.size(); ++i)
    out << (i ? "," : "") << values[i];
  return out.str();
}

}  // namespace

void check_state_values(const nn::StateDict& state, const std::string& path) {
  const std::string var_suffix = "running_var";
  for (const auto& [name, t] : state) {
    if (!t.defined() || t.dtype() != DType::Float32)
      continue;
    const std::vector<float> v = t.to_vector<float>();
    const bool variance = name.size() >= var_suffix.size() &&
                          name.compare(name.size() - var_suffix.size(), var_suffix.size(), var_suffix) == 0;
    for (size_t i = 0; i < v.size(); ++i) {
      QNN_CHECK(std::isfinite(v[i]), "load_weights",
                path << ": " << name << "[" << i << "] is " << v[i] << " (expected finite values)");
      QNN_CHECK(!variance || v[i] >= 0.0f, "load_weights",
                path << ": " << name << "[" << i << "] is " << v[i] << " (expected a variance >= 0)");
    }
  }
}

std::map<std::string, std::string> load_weights(nn::Module& model, const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  // A quantized model (qnn ptq / qnn qat): its weights are codes + levels; decode them.
  if (quant::is_quantized(file.metadata)) {
    quant::QuantizedFile q = quant::load_quantized(path);
    check_state_values(q.state, path);
    try {
      model.load_state_dict(q.state, /*strict=*/true);
    } catch (const Error& e) {
      throw Error("load_weights: " + path + ": " + e.what());
    }
    return q.metadata;
  }
  // A training checkpoint keeps the model under "model." (beside "optim."): take those names only.
  const bool checkpoint = file.metadata.count("qnn_checkpoint") > 0;
  nn::StateDict state;
  for (auto& [name, tensor] : file.tensors) {
    if (!checkpoint)
      state.emplace_back(name, tensor);
    else if (name.rfind(kCheckpointPrefix, 0) == 0)
      state.emplace_back(name.substr(std::string(kCheckpointPrefix).size()), tensor);
  }
  check_state_values(state, path);
  try {
    model.load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    throw Error("load_weights: " + path + ": " + e.what());
  }
  return file.metadata;
}

void save_weights(const nn::Module& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, model.state_dict(), metadata);
}

bool normalization_from_metadata(const std::map<std::string, std::string>& metadata, data::Normalization& out) {
  const auto mean = metadata.find("normalize_mean"), std = metadata.find("normalize_std");
  if (mean == metadata.end() || std == metadata.end())
    return false;
  out.mean = parse_floats(mean->second, "normalize_mean");
  out.std = parse_floats(std->second, "normalize_std");
  QNN_CHECK(out.mean.size() == out.std.size() && !out.mean.empty(), "weights metadata",
            "got " << out.mean.size() << " means and " << out.std.size() << " stds (expected one per channel)");
  return true;
}

void normalization_to_metadata(const data::Normalization& norm, std::map<std::string, std::string>& metadata) {
  metadata["normalize_mean"] = join_floats(norm.mean);
  metadata["normalize_std"] = join_floats(norm.std);
}

data::Normalization resolve_normalization(const std::string& name, const std::string& weights,
                                          const std::string& dataset, std::string* source) {
  auto said = [&](const std::string& s) {
    if (source)
      *source = s;
  };
  if (name != "auto") {
    said("--normalize " + name);
    return data::named_normalization(name);
  }
  data::Normalization norm;
  if (!weights.empty() && normalization_from_metadata(load_safetensors(weights).metadata, norm)) {
    said(weights + " metadata");
    return norm;
  }
  said(weights.empty() ? "the dataset's default" : "the dataset's default; " + weights + " records none");
  return data::named_normalization(data::default_normalization(dataset));
}

}  // namespace qnn::engine
