#include "engine/run_folder.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace qnn::engine {

namespace fs = std::filesystem;

void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    QNN_CHECK(out.good(), "run folder", "cannot write " << tmp);
    out << text;
    out.flush();
    QNN_CHECK(out.good(), "run folder", "cannot write " << tmp << " (disk full?)");
  }
  fs::rename(tmp, path);
}

RunFolder::RunFolder(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
  const fs::path file = fs::path(dir_) / "run.json";
  if (fs::exists(file)) {
    std::ifstream in(file);
    try {
      record_ = nlohmann::ordered_json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw Error("run folder: " + file.string() + " is not valid JSON: " + e.what());
    }
  }
}

std::string RunFolder::path(const std::string& file) const { return (fs::path(dir_) / file).string(); }

void RunFolder::record(const std::string& key, nlohmann::ordered_json value) {
  record_[key] = std::move(value);
  write_json("run.json", record_);
}

void RunFolder::write_json(const std::string& file, const nlohmann::ordered_json& j) const {
  write_atomically(path(file), j.dump(2) + "\n");
}

void RunFolder::write_metrics(const std::vector<EpochMetrics>& history) const {
  std::ostringstream csv, lines;
  csv << "epoch,lr,train_loss,train_top1,test_loss,test_top1,test_top5,seconds\n";
  char row[256];
  for (const EpochMetrics& m : history) {
    std::snprintf(row, sizeof row, "%lld,%.6g,%.6f,%.4f,%.6f,%.4f,%.4f,%.2f\n", static_cast<long long>(m.epoch), m.lr,
                  m.train_loss, m.train_top1, m.test_loss, m.test_top1, m.test_top5, m.seconds);
    csv << row;
    lines << nlohmann::json(m).dump() << '\n';
  }
  write_atomically(path("metrics.csv"), csv.str());
  write_atomically(path("metrics.jsonl"), lines.str());
}

}  // namespace qnn::engine
