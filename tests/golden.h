#pragma once
// Golden values generated once with PyTorch by the scripts in tests/tools/ (gen_<name>.py writes
// tests/data/<name>.json): loading, cached per file, and turning a list of numbers into a tensor.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/creation.h"

namespace qnn::testing {

// tests/data/<file>, parsed once per test executable.
inline const nlohmann::json& golden_file(const std::string& file) {
  static std::map<std::string, nlohmann::json> cache;
  auto it = cache.find(file);
  if (it == cache.end()) {
    std::ifstream in(std::string(QNN_TEST_DATA_DIR) + "/" + file);
    REQUIRE_MESSAGE(in.good(), "missing tests/data/" << file << " (run its generator in tests/tools/)");
    it = cache.emplace(file, nlohmann::json::parse(in)).first;
  }
  return it->second;
}

inline Tensor tensor_of(const nlohmann::json& values, const Shape& shape) {
  return from_vector<float>(values.get<std::vector<float>>(), shape);
}

}  // namespace qnn::testing
