#pragma once
// Shortened versions of a training recipe, for trying a paper's experiment at a fraction of its
// cost: every count of epochs in a recipe (TrainConfig JSON, with an optional "qat" section) is
// scaled by the same factor, so the shape of the schedule (LR milestones, the anneal end) stays.
#include <nlohmann/json.hpp>

namespace qnn::engine {

// `recipe` with epochs, the schedule's milestones / step_size / total_steps / warmup_steps and the
// qat section's anneal_start_epoch / anneal_end_epoch multiplied by `scale` (> 0). Whole-epoch
// counts are rounded and kept >= 1; milestones that collide after rounding are merged.
nlohmann::json scale_epochs(nlohmann::json recipe, double scale);

}  // namespace qnn::engine
