// The JSON configs on any text: engine::TrainConfig, quant::QatConfig and engine::PtqRunConfig
// (core/config.h parse_config) and the mixed-precision plan (quant/ptq/bit_plan.h). Each parser
// gets the whole document and every object inside it down to three levels (a `qnn qat` config
// holds its QAT section under "qat", a table of `qnn reproduce` its runs under rows[].config).
// A config that parses must convert back to JSON and parse again to the same config.
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/ptq_pipeline.h"
#include "engine/train_config.h"
#include "quant/ptq/bit_plan.h"
#include "quant/qat/qat_config.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

const char* kName = "configs";

void objects_in(const nlohmann::json& j, int depth, std::vector<const nlohmann::json*>& out) {
  if (out.size() >= 32)
    return;
  if (j.is_object())
    out.push_back(&j);
  if (depth == 0 || !j.is_structured())
    return;
  for (const auto& child : j)
    objects_in(child, depth - 1, out);
}

template <class Config>
void round_trip(const nlohmann::json& j) {
  qnn::fuzz::expect_qnn_errors_only(kName, [&] {
    const Config config = Config::from_json(j);
    const nlohmann::json written = config.to_json();
    FUZZ_ASSERT(kName, Config::from_json(written).to_json() == written);
  });
}

}  // namespace

QNN_FUZZ_TARGET(configs) {
  const nlohmann::json doc =
      nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size, nullptr,
                            /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return 0;
  std::vector<const nlohmann::json*> parts{&doc};
  objects_in(doc, 3, parts);
  for (const nlohmann::json* j : parts) {
    round_trip<qnn::engine::TrainConfig>(*j);
    round_trip<qnn::quant::QatConfig>(*j);
    round_trip<qnn::engine::PtqRunConfig>(*j);
    qnn::fuzz::expect_qnn_errors_only(kName, [&] {
      const qnn::quant::BitPlan plan(*j);
      const qnn::quant::LayerPrecision fallback;
      for (const char* kind : {"Conv2d", "Linear"})
        for (const char* layer : {"conv1", "linear", "layer1.0.conv1"})
          (void)plan.precision(layer, kind, fallback).describe();
    });
  }
  return 0;
}
