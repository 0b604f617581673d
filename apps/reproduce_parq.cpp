// `qnn reproduce parq-cifar [--epochs-scale S] [--seeds 0,1,2] [--bits 1,ternary,2,3,4]
// [--methods ste,binaryrelax,parq]`: Table 1 of the PARQ paper (ResNet-20/56 on CIFAR-10, from
// scratch), one run per cell and seed, one after another, with the recipes of
// apps/configs/parq/<model>_cifar10_<bits>.json and the paper's numbers of
// apps/configs/parq/table1.json printed beside ours. Ours is the final-epoch test top-1 of the
// exactly-quantized model (never a test-selected best epoch), mean +- sample std over seeds, as
// the paper reports 3 runs. Finished runs are read back from their qat_summary.json and
// interrupted ones resumed, so the command continues across sessions.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/svg_histogram.h"
#include "apps/training_flags.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/qat_training.h"
#include "engine/recipe.h"

namespace qnn::apps {

namespace {

namespace fs = std::filesystem;

#ifndef QNN_CONFIG_DIR
#define QNN_CONFIG_DIR "apps/configs"
#endif

struct ReproduceFlags {
  std::string config_dir = QNN_CONFIG_DIR;
  std::string data_dir, model = "resnet20", bits = "1,ternary,2,3,4", methods = "ste,binaryrelax,parq", seeds = "0,1,2",
                        out_dir = "runs/reproduce-parq", init_weights, normalize;
  double epochs_scale = 1.0;
  int workers = 2;
  int64_t train_limit = 0, test_limit = 0;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

std::string mean_std(const std::vector<double>& v) {
  if (v.empty())
    return "-";
  double mean = 0.0;
  for (double x : v)
    mean += x;
  mean /= static_cast<double>(v.size());
  char buf[64];
  if (v.size() == 1) {
    std::snprintf(buf, sizeof buf, "%.2f (n=1)", mean);
    return buf;
  }
  double ss = 0.0;
  for (double x : v)
    ss += (x - mean) * (x - mean);
  std::snprintf(buf, sizeof buf, "%.2f +- %.2f (n=%zu)", mean, std::sqrt(ss / static_cast<double>(v.size() - 1)),
                v.size());
  return buf;
}

std::string canonical_bits(const std::string& b) { return b == "T" || b == "0" ? "ternary" : b; }

// The paper's cell (mean, std) for model, bits and method; a qnn::Error when the table has none.
std::pair<double, double> paper_cell(const nlohmann::json& table, const std::string& model, const std::string& bits,
                                     const std::string& method) {
  const auto& methods = table.at("methods");
  const auto it = std::find(methods.begin(), methods.end(), method);
  const std::string b = canonical_bits(bits);
  QNN_CHECK(table.at("cells").contains(model) && table.at("cells").at(model).contains(b) && it != methods.end(),
            "reproduce parq-cifar",
            "no cell for " << model << " " << bits << " " << method << " in " << table.value("table", "the table"));
  const auto& cell = table.at("cells").at(model).at(b).at(static_cast<size_t>(it - methods.begin()));
  return {cell.at(0).get<double>(), cell.at(1).get<double>()};
}

// The recipe of a cell: the model's file for those bits, with the method switched and the epochs
// scaled.
nlohmann::json cell_recipe(const ReproduceFlags& f, const nlohmann::json& table, const std::string& bits,
                           const std::string& method) {
  std::string file = table.at("recipes").at(canonical_bits(bits)).get<std::string>();
  file.replace(file.find("{model}"), 7, f.model);
  nlohmann::json j = read_json_file(f.config_dir + "/parq/" + file, "reproduce parq-cifar");
  j["qat"]["method"] = method;
  return engine::scale_epochs(j, f.epochs_scale);
}

void run_reproduce(const ReproduceFlags& f) {
  const std::vector<std::string> bits = split(f.bits), methods = split(f.methods), seeds = split(f.seeds);
  const nlohmann::json table = read_json_file(f.config_dir + "/parq/table1.json", "reproduce parq-cifar");
  for (const std::string& b : bits)
    for (const std::string& m : methods)
      paper_cell(table, f.model, b, m);  // validates every cell before hours of training
  const nlohmann::json probe = cell_recipe(f, table, bits.front(), methods.front());
  // --normalize if given; with --from, the weights' own statistics (auto); else the recipe's.
  const std::string normalize = !f.normalize.empty()      ? f.normalize
                                : !f.init_weights.empty() ? "auto"
                                                          : probe.value("normalize", std::string("auto"));
  std::cout << "qnn reproduce parq-cifar: " << f.model << ", bits " << f.bits << ", methods " << f.methods << ", seeds "
            << f.seeds << ", " << probe.at("epochs") << " epochs per run (scale " << f.epochs_scale << ")"
            << (f.init_weights.empty() ? ", from scratch" : ", from " + f.init_weights) << std::endl;
  nlohmann::json probe_config = probe;
  probe_config.erase("qat");
  probe_config["normalize"] = normalize;
  probe_config["init_weights"] = f.init_weights;
  probe_config["data_dir"] = f.data_dir;
  const data::ClassificationData data =
      load_training_data(engine::TrainConfig::from_json(probe_config), /*lr_given=*/true, 0.0);
  std::map<std::pair<std::string, std::string>, std::vector<double>> ours;
  for (const std::string& b : bits)
    for (const std::string& m : methods)
      for (const std::string& s : seeds) {
        nlohmann::json j = cell_recipe(f, table, b, m);
        const quant::QatConfig qc = quant::QatConfig::from_json(j.at("qat"));
        j.erase("qat");
        j["seed"] = std::stoull(s);
        j["data_dir"] = f.data_dir;
        j["normalize"] = normalize;
        j["workers"] = f.workers;
        j["train_limit"] = f.train_limit;
        j["test_limit"] = f.test_limit;
        j["init_weights"] = f.init_weights;
        j["out_dir"] = f.out_dir;
        j["run_name"] = f.model + "-" + (b == "T" ? "ternary" : b) + "-" + m + "-seed" + s;
        const engine::TrainConfig config = engine::TrainConfig::from_json(j);
        const fs::path dir = config.run_dir();
        const fs::path summary = dir / "qat_summary.json";
        if (!fs::exists(summary)) {
          const fs::path last = dir / "last.safetensors";
          std::cout << "== " << j["run_name"].get<std::string>() << (fs::exists(last) ? " (resuming)" : "")
                    << std::endl;
          const StopOnInterrupt interrupt;
          engine::TrainCallbacks callbacks = terminal_callbacks(
              config, data, [](const engine::EpochMetrics& m) { return engine::qat_epoch_text(m.extra); });
          callbacks.on_finish = [](nn::Module&, engine::RunFolder& folder) {
            write_latent_histogram_svg(folder.dir());
          };
          const engine::TrainResult r =
              engine::train_qat(config, qc, data, callbacks, fs::exists(last) ? last.string() : "", interrupt.flag());
          if (r.interrupted) {
            std::cout << "interrupted: " << (dir / "last.safetensors").string()
                      << " is saved; the same command resumes it" << std::endl;
            return;
          }
        }
        std::ifstream in(summary);
        ours[{b, m}].push_back(nlohmann::json::parse(in).at("final_top1").get<double>());
      }
  std::printf("\nTable 1, %s on CIFAR-10 (paper FP %.2f): test top-1 %% of the exactly-quantized model\n",
              f.model.c_str(), table.at("fp").at(f.model).get<double>());
  std::printf("%-8s %-12s %-16s %s\n", "bits", "method", "paper", "ours");
  for (const std::string& b : bits)
    for (const std::string& m : methods) {
      const auto [mean, std] = paper_cell(table, f.model, b, m);
      char paper[32];
      std::snprintf(paper, sizeof paper, "%.2f +- %.2f", mean, std);
      std::printf("%-8s %-12s %-16s %s\n", b.c_str(), m.c_str(), paper, mean_std(ours[{b, m}]).c_str());
    }
}

}  // namespace

void add_reproduce_parq_command(CLI::App& reproduce) {
  auto f = std::make_shared<ReproduceFlags>();
  auto* cmd = reproduce.add_subcommand(
      "parq-cifar", "PARQ Table 1: ResNet-20/56 on CIFAR-10, STE / BinaryRelax / PARQ at 1-4 bits and ternary");
  cmd->add_option("--config-dir", f->config_dir, "Folder of the configs (parq/table1.json and the recipes)")
      ->capture_default_str();
  cmd->add_option("--data", f->data_dir, "CIFAR-10 binary folder (default $QNN_DATA_DIR/cifar-10-batches-bin)");
  cmd->add_option("--model", f->model, "resnet20 or resnet56")->capture_default_str();
  cmd->add_option("--bits", f->bits, "Comma-separated bit widths")->capture_default_str();
  cmd->add_option("--methods", f->methods, "Comma-separated methods")->capture_default_str();
  cmd->add_option("--seeds", f->seeds, "Comma-separated seeds (the paper: 3 runs)")->capture_default_str();
  cmd->add_option("--epochs-scale", f->epochs_scale,
                  "Scale the 200 epochs, LR milestones and anneal end (e.g. 0.05 = 10 epochs)")
      ->capture_default_str();
  cmd->add_option("--from", f->init_weights, "Start every run from these weights (the paper: from scratch)");
  cmd->add_option("--normalize", f->normalize,
                  "Input statistics (default: the recipe's; auto takes the --from weights' own)");
  cmd->add_option("--out", f->out_dir, "Folder of the run folders")->capture_default_str();
  cmd->add_option("--workers", f->workers, "Data loader threads")->capture_default_str();
  cmd->add_option("--train-limit", f->train_limit, "Use only the first N training images (quick checks)");
  cmd->add_option("--test-limit", f->test_limit, "Use only the first N test images (quick checks)");
  cmd->callback([f] { run_reproduce(*f); });
}

}  // namespace qnn::apps
