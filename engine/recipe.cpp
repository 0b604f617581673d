#include "engine/recipe.h"

#include <cmath>

#include "core/error.h"

namespace qnn::engine {

namespace {

int64_t scaled(int64_t epochs, double scale) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(epochs) * scale));
}

}  // namespace

nlohmann::json scale_epochs(nlohmann::json recipe, double scale) {
  QNN_CHECK(std::isfinite(scale) && scale > 0.0, "scale_epochs", "got scale " << scale << " (expected > 0)");
  QNN_CHECK(recipe.is_object(), "scale_epochs", "got " << recipe.type_name() << " (expected a JSON object)");
  if (recipe.contains("epochs"))
    recipe["epochs"] = scaled(recipe.at("epochs").get<int64_t>(), scale);
  if (recipe.contains("schedule")) {
    nlohmann::json& s = recipe["schedule"];
    if (s.contains("milestones")) {
      nlohmann::json merged = nlohmann::json::array();
      for (const auto& m : s.at("milestones")) {
        const int64_t e = scaled(m.get<int64_t>(), scale);
        if (merged.empty() || merged.back().get<int64_t>() < e)
          merged.push_back(e);
      }
      s["milestones"] = merged;
    }
    for (const char* key : {"step_size", "total_steps", "warmup_steps"})
      if (s.contains(key) && s.at(key).get<int64_t>() > 0)
        s[key] = scaled(s.at(key).get<int64_t>(), scale);
  }
  if (recipe.contains("qat"))
    for (const char* key : {"anneal_start_epoch", "anneal_end_epoch"})
      if (recipe["qat"].contains(key) && recipe["qat"].at(key).get<double>() > 0.0)
        recipe["qat"][key] = recipe["qat"].at(key).get<double>() * scale;
  return recipe;
}

}  // namespace qnn::engine
