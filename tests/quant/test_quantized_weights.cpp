// The quantized-weights file (quant/quantized_weights.h): a round trip, and an index that does not
// describe its tensors refused with a qnn::Error naming the file, the weight and the key, before
// anything is sized by it (the inputs tests/fuzz/fuzz_quantized found crashing are replayed by
// test_fuzz from tests/fuzz/regressions/quantized/).
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/creation.h"
#include "core/error.h"
#include "core/io/safetensors.h"
#include "quant/quantized_weights.h"
#include "tests/error_of.h"
#include "tests/temp_dir.h"

using qnn::testing::error_of;
using namespace qnn;
using namespace qnn::quant;

namespace {

// A 2-bit per-channel weight [2, 3] and a bias, saved by save_quantized.
void save_example(const std::string& path) {
  const std::vector<Alphabet> alphabets = {Alphabet::midtread(1, 0.5f), Alphabet::midtread(1, 0.25f)};
  const nn::StateDict state = {{"w", from_vector<float>({-0.5f, 0.0f, 0.5f, 0.25f, 0.0f, -0.25f}, {2, 3})},
                               {"b", from_vector<float>({0.1f, -0.1f}, {2})}};
  save_quantized(path, state, {{"w", alphabets}}, {{"method", "test"}});
}

}  // namespace

TEST_SUITE("quantized_weights") {
  TEST_CASE("round trip") {
    testing::TempDir dir("quantized_weights", "round_trip");
    const std::string path = dir.file("q.safetensors");
    save_example(path);
    const QuantizedFile f = load_quantized(path);
    REQUIRE(f.state.size() == 2);
    CHECK(f.state[0].first == "w");
    CHECK(f.state[0].second.to_vector<float>() == std::vector<float>{-0.5f, 0.0f, 0.5f, 0.25f, 0.0f, -0.25f});
    CHECK(f.state[1].first == "b");
    REQUIRE(f.quantized.size() == 1);
    CHECK(f.quantized[0].alphabets.size() == 2);
    CHECK(f.metadata.at("method") == "test");
  }

  TEST_CASE("a corrupt index is an error naming the file, the weight and the key") {
    testing::TempDir dir("quantized_weights", "corrupt");
    const std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
    save_example(good);
    const SafetensorsFile file = load_safetensors(good);
    const nlohmann::json index = nlohmann::json::parse(file.metadata.at("qnn_quantized"));
    // `edit` changes the index (or the metadata text), `tensors` the file's tensors.
    auto refused = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& what,
                       const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& tensors = {}) {
      nlohmann::json changed = index;
      edit(changed);
      auto metadata = file.metadata;
      metadata["qnn_quantized"] = changed.is_string() ? changed.get<std::string>() : changed.dump();
      auto t = file.tensors;
      if (tensors)
        tensors(t);
      save_safetensors(bad, t, metadata);
      const std::string msg = error_of([&] { load_quantized(bad); });
      CAPTURE(msg);
      CHECK(msg.find("load_quantized") != std::string::npos);
      CHECK(msg.find(bad) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    };
    refused([](auto& j) { j["w"].erase("levels"); }, "'w' has levels missing (expected an integer in [1, 4])");
    refused([](auto& j) { j["w"]["groups"] = 0; }, "'w' has groups 0 (expected an integer in [1,");
    refused([](auto& j) { j["w"]["groups"] = -2; }, "'w' has groups -2");
    refused([](auto& j) { j["w"]["groups"] = 4; }, "6 elements in 4 groups");
    refused([](auto& j) { j["w"]["bits_per_code"] = 17; }, "bits_per_code 17 (expected an integer in [1, 16])");
    refused([](auto& j) { j["w"]["levels"] = 5; }, "levels 5 (expected an integer in [1, 4])");
    refused([](auto& j) { j["w"]["levels"] = "4"; }, "levels \"4\"");
    refused([](auto& j) { j["w"]["shape"] = {2, -3}; }, "shape element -3 (expected non-negative integers)");
    refused([](auto& j) { j["w"]["shape"] = 6; }, "'w' has shape 6 (expected an array)");
    refused([](auto& j) { j["w"]["shape"] = {0, 1ull << 40, 1ull << 40}; }, "whose size overflows");
    refused([](auto& j) { j["w"]["shape"] = {4, 3}; }, "do not match its recorded shape");
    refused([](auto& j) { j["w"] = 7; }, "'w' is described by 7 (expected an object");
    refused([](auto& j) { j = nlohmann::json::array({1}); }, "metadata is a JSON array (expected an object");
    refused([](auto& j) { j = std::string(100, '[') + std::string(100, ']'); }, "nests deeper than 8 levels");
    refused([](auto& j) { j = R"({"w": {}, "w": {}})"; }, "names 'w' twice");
    refused([](auto&) {}, "'w' has no .levels tensor",
            [](auto& t) { std::erase_if(t, [](const auto& p) { return p.first == "w.levels"; }); });
    refused([](auto&) {}, "'w' is both a quantized weight (codes and levels) and a tensor of its own",
            [](auto& t) {
              t.emplace_back("w", zeros({2, 3}));
            });
  }
}
