// `qnn reproduce gpfq-imagenet` and `qnn reproduce gpfq-cifar`: run the rows of a table config
// (apps/configs/gpfq/*.json: defaults + one `qnn ptq` config per row + the paper's numbers) and
// print the paper's numbers beside ours. Every row is one run_ptq (apps/ptq_run.h); the float
// model is evaluated once per model and reused.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/ptq_pipeline.h"

#ifndef QNN_CONFIG_DIR
#define QNN_CONFIG_DIR "apps/configs"
#endif

namespace qnn::apps {

namespace {

using engine::EvalResult;
using engine::PtqRunConfig;
using engine::PtqRunResult;

struct ReproduceOptions {
  std::string config_dir = QNN_CONFIG_DIR;
  std::vector<std::string> tables;
  std::string data_dir, weights_dir, out_dir, rows;
  bool random_weights = false;
  int64_t m = 0, test_limit = 0, holdout = 0, search_m = 0;
  std::string search_C;
};

std::string default_weights_dir() {
  const char* root = std::getenv("QNN_DATA_DIR");
  return root && *root ? std::string(root) + "/pretrained" : "pretrained";
}

std::string num(double v, const char* fmt = "%.2f") {
  if (!std::isfinite(v))
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

double field(const nlohmann::json& j, const char* key) { return j.contains(key) ? j[key].get<double>() : NAN; }

// A row's PTQ config: the table's defaults with the row's "config" over them. A table of the
// wrong shape is named with the file, not as a bare JSON complaint.
nlohmann::json row_config(const nlohmann::json& table, const nlohmann::json& row, const std::string& file) {
  try {
    nlohmann::json cfg = table.value("defaults", nlohmann::json::object());
    for (const auto& [k, v] : row.at("config").items())
      cfg[k] = v;
    QNN_CHECK(!cfg.contains("weights") || cfg["weights"].is_string(), "reproduce",
              file << ": \"weights\" is " << cfg["weights"].dump() << " (expected a file name)");
    return cfg;
  } catch (const nlohmann::json::exception& e) {
    throw Error("reproduce: " + file + ": a row of \"rows\" is malformed (" + e.what() +
                "; expected {\"label\", \"config\": {...}, \"paper\": {...}})");
  }
}

void run_tables(const ReproduceOptions& o, const std::vector<std::string>& files, bool imagenet) {
  const std::string weights_dir = o.weights_dir.empty() ? default_weights_dir() : o.weights_dir;
  if (!o.out_dir.empty())
    std::filesystem::create_directories(o.out_dir);
  std::map<std::string, EvalResult> float_results;  // model|weights|fold -> float accuracy
  struct Line {
    std::string table, label;
    nlohmann::json paper;
    PtqRunResult ours;
  };
  std::vector<Line> lines;
  for (const std::string& file : files) {
    const nlohmann::json table = read_json_file(file, "reproduce");
    QNN_CHECK(table.contains("rows") && table["rows"].is_array(), "reproduce", file << " has no \"rows\" array");
    std::cout << "== " << table.value("table", file) << ": " << table.value("note", "") << "\n";
    for (const auto& row : table["rows"]) {
      const std::string label = row.value("label", "?");
      if (!o.rows.empty() && label.find(o.rows) == std::string::npos)
        continue;
      nlohmann::json cfg = row_config(table, row, file);
      if (o.random_weights)
        cfg["weights"] = "";
      else if (cfg.contains("weights") && !cfg["weights"].get<std::string>().empty())
        cfg["weights"] = weights_dir + "/" + cfg["weights"].get<std::string>();
      if (!o.data_dir.empty())
        cfg["data_dir"] = o.data_dir;
      if (o.m > 0)
        cfg["m"] = o.m;
      if (o.test_limit > 0)
        cfg["test_limit"] = o.test_limit;
      if (o.holdout > 0)
        cfg["holdout"] = o.holdout;
      if (o.search_m > 0)
        cfg["search_m"] = o.search_m;
      if (!o.search_C.empty() && cfg.contains("search_C"))
        cfg["search_C"] = o.search_C;
      PtqRunConfig config = PtqRunConfig::from_json(cfg);
      if (!config.weights.empty() && !std::filesystem::exists(config.weights))
        throw Error("reproduce: weights " + config.weights + " not found (expected --weights-dir holding " +
                    std::filesystem::path(config.weights).filename().string() +
                    (imagenet ? ", torchvision weights converted by tools/convert_torchvision_weights.py" : "") +
                    "; or --random-weights to check the pipeline)");
      const std::string fp_key = config.model + "|" + config.weights + "|" + (config.fold_bn ? "fold" : "");
      auto cached = float_results.find(fp_key);
      if (cached != float_results.end())
        config.skip_fp = true;
      std::cout << "\n-- " << label << "\n";
      PtqRunResult r = engine::run_ptq(config, std::cout);
      if (cached != float_results.end())
        r.fp = cached->second;
      else
        float_results[fp_key] = r.fp;
      if (!o.out_dir.empty()) {
        std::ofstream out(o.out_dir + "/results.jsonl", std::ios::app);
        nlohmann::ordered_json j;
        j["table"] = table.value("table", file);
        j["label"] = label;
        j["config"] = config.to_json();
        j["paper"] = row.value("paper", nlohmann::json::object());
        j["ours"] = r.to_json();
        out << j.dump() << "\n";
      }
      lines.push_back({table.value("table", file), label, row.value("paper", nlohmann::json::object()), std::move(r)});
    }
  }
  std::printf("\n%-12s %-28s | %-30s | %s\n", "table", "row", "paper: quant / ref / drop (top-5 drop)",
              "ours: quant / float / drop (top-5 drop)  [RTN]  C  pass s");
  for (const Line& l : lines) {
    const double p_quant = field(l.paper, "top1"), p_ref = field(l.paper, "ref_top1");
    double p_drop = field(l.paper, "drop_top1");
    if (!std::isfinite(p_drop) && std::isfinite(p_quant) && std::isfinite(p_ref))
      p_drop = p_ref - p_quant;
    const double p_drop5 = field(l.paper, "drop_top5");
    const PtqRunResult& r = l.ours;
    const std::string paper = l.paper.empty() ? std::string("(no paper number)")
                                              : num(p_quant) + " / " + num(p_ref) + " / " + num(p_drop) +
                                                    (std::isfinite(p_drop5) ? " (" + num(p_drop5) + ")" : "");
    const std::string ours = num(r.quantized.top1) + " / " + num(r.fp.top1) + " / " +
                             num(r.fp.top1 - r.quantized.top1) + " (" + num(r.fp.top5 - r.quantized.top5) + ")" +
                             (r.rtn.count ? "  [RTN " + num(r.rtn.top1) + "]" : "") + "  C " + num(r.C, "%.3g") + "  " +
                             num(r.ptq.seconds, "%.1f");
    std::printf("%-12s %-28s | %-30s | %s\n", l.table.substr(0, 12).c_str(), l.label.c_str(), paper.c_str(),
                ours.c_str());
  }
}

void add_common(CLI::App* cmd, ReproduceOptions& o) {
  cmd->add_option("--config-dir", o.config_dir, "Folder of the table configs (gpfq/*.json)")->capture_default_str();
  cmd->add_option("--data", o.data_dir, "Dataset folder (default: the configs', else $QNN_DATA_DIR/...)");
  cmd->add_option("--weights-dir", o.weights_dir,
                  "Folder of the weights the configs name (default $QNN_DATA_DIR/pretrained)");
  cmd->add_flag("--random-weights", o.random_weights,
                "Randomly initialised models: checks the pipeline, not the numbers");
  cmd->add_option("--m", o.m, "Override m (calibration images per layer) of every row");
  cmd->add_option("--test-limit", o.test_limit, "Only the first N test images");
  cmd->add_option("--rows", o.rows, "Only the rows whose label contains this text");
  cmd->add_option("--out-dir", o.out_dir, "Append every row's result to OUT_DIR/results.jsonl");
}

}  // namespace

void add_reproduce_gpfq_commands(CLI::App& reproduce) {
  auto o = std::make_shared<ReproduceOptions>();
  auto* imagenet = reproduce.add_subcommand(
      "gpfq-imagenet", "P2 Tables 1-3 (ResNet-18/50 on ImageNet): GPFQ, GPFQ-dagger, BN fused; paper beside ours");
  add_common(imagenet, *o);
  imagenet->add_option("--tables", o->tables, "Which of P2's tables: 1, 2, 3")->delimiter(',')->capture_default_str();
  imagenet->callback([o] {
    std::vector<std::string> files;
    std::vector<std::string> tables = o->tables.empty() ? std::vector<std::string>{"1", "2", "3"} : o->tables;
    for (const std::string& t : tables) {
      QNN_CHECK(t == "1" || t == "2" || t == "3", "reproduce gpfq-imagenet",
                "got table " << t << " (expected 1, 2 or 3)");
      files.push_back(o->config_dir + "/gpfq/p2_table" + t + ".json");
    }
    run_tables(*o, files, /*imagenet=*/true);
  });
  auto c = std::make_shared<ReproduceOptions>();
  auto* cifar = reproduce.add_subcommand(
      "gpfq-cifar", "Our CIFAR-10 table: pretrained ResNet-20/56, b = 2, 3, 4, 5, ternary; float, RTN and GPFQ");
  add_common(cifar, *c);
  cifar->add_option("--search-C", c->search_C, "Override every row's C grid FROM:TO:STEP");
  cifar->add_option("--search-m", c->search_m, "Override m while searching C");
  cifar->add_option("--holdout", c->holdout, "Override the held-out training images of the C search");
  cifar->callback([c] { run_tables(*c, {c->config_dir + "/gpfq/cifar10.json"}, /*imagenet=*/false); });
}

}  // namespace qnn::apps
