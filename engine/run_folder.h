#pragma once
// A run folder and the files in it. Every file is written whole or not at all (a temporary file
// beside it, then a rename), so a run stopped at any moment leaves files that agree with each
// other. What a training run writes:
//   config.json          the resolved configuration
//   run.json             how the run was made (engine/run_record.h) and what it selected
//   metrics.csv/.jsonl   one row per finished epoch
//   last.safetensors     the checkpoint: model under "model.", optimizer under "optim.", the rest
//                        of the state as JSON metadata; written after every epoch and on interrupt
//   best.safetensors     the weights (plain state_dict names) of the best epoch so far
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/train_config.h"

namespace qnn::engine {

// Writes `text` to `path` through a temporary file and a rename, so readers never see half a file.
void write_atomically(const std::string& path, const std::string& text);

class RunFolder {
 public:
  // Creates the folder if needed. When it holds a run.json (a resumed run), the record is read
  // back, so what is added goes on from it.
  explicit RunFolder(std::string dir);
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& file) const;
  // Sets record[key] and rewrites run.json.
  void record(const std::string& key, nlohmann::ordered_json value);
  const nlohmann::ordered_json& record() const { return record_; }
  void write_json(const std::string& file, const nlohmann::ordered_json& j) const;
  void write_metrics(const std::vector<EpochMetrics>& history) const;

 private:
  std::string dir_;
  nlohmann::ordered_json record_ = nlohmann::ordered_json::object();
};

}  // namespace qnn::engine
