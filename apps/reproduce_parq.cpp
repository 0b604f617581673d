// `qnn reproduce parq-cifar [--epochs-scale S] [--seeds 0,1,2] [--bits 1,ternary,2,3,4]
// [--methods ste,binaryrelax,parq]`: Table 1 of the PARQ paper (ResNet-20/56 on CIFAR-10, from
// scratch, the recipe of apps/parq_recipes.h), one run per cell and seed, one after another, then
// the paper's numbers beside ours (final-epoch test top-1 of the exactly-quantized model, mean +-
// sample std over seeds; digest pitfalls 5 and 21). Finished runs are read back from their
// qat_summary.json and interrupted ones resumed, so the command continues across sessions.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/parq_recipes.h"
#include "apps/trainer.h"
#include "core/error.h"

namespace qnn::apps {

namespace {

namespace fs = std::filesystem;

struct ReproduceFlags {
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

void run_reproduce(const ReproduceFlags& f) {
  const std::vector<std::string> bits = split(f.bits), methods = split(f.methods), seeds = split(f.seeds);
  for (const std::string& b : bits)
    for (const std::string& m : methods)
      parq_table1(f.model, b, m);  // validates every cell before hours of training
  const nlohmann::json probe = parq_cifar_recipe(f.model, bits.front(), methods.front(), f.epochs_scale);
  const std::string normalize = f.normalize.empty() ? probe.at("normalize").get<std::string>() : f.normalize;
  std::cout << "qnn reproduce parq-cifar: " << f.model << ", bits " << f.bits << ", methods " << f.methods << ", seeds "
            << f.seeds << ", " << probe.at("epochs") << " epochs per run (scale " << f.epochs_scale << ")"
            << (f.init_weights.empty() ? ", from scratch" : ", from " + f.init_weights) << std::endl;
  const ClassificationData data =
      load_classification_data("cifar10", f.data_dir, named_normalization(normalize), /*load_train=*/true, true);
  std::map<std::pair<std::string, std::string>, std::vector<double>> ours;
  for (const std::string& b : bits)
    for (const std::string& m : methods)
      for (const std::string& s : seeds) {
        nlohmann::json j = parq_cifar_recipe(f.model, b, m, f.epochs_scale);
        j["seed"] = std::stoull(s);
        j["data_dir"] = f.data_dir;
        j["normalize"] = normalize;
        j["workers"] = f.workers;
        j["train_limit"] = f.train_limit;
        j["test_limit"] = f.test_limit;
        j["init_weights"] = f.init_weights;
        j["out_dir"] = f.out_dir;
        j["run_name"] = f.model + "-" + (b == "T" ? "ternary" : b) + "-" + m + "-seed" + s;
        const TrainConfig config = TrainConfig::from_json(j);
        const fs::path dir = config.run_dir();
        const fs::path summary = dir / "qat_summary.json";
        if (!fs::exists(summary)) {
          const fs::path last = dir / "last.safetensors";
          std::cout << "== " << j["run_name"].get<std::string>() << (fs::exists(last) ? " (resuming)" : "")
                    << std::endl;
          const StopOnInterrupt interrupt;
          const TrainResult r = train(config, data, fs::exists(last) ? last.string() : "", std::cout, interrupt.flag());
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
              f.model.c_str(), parq_table1_fp(f.model));
  std::printf("%-8s %-12s %-16s %s\n", "bits", "method", "paper", "ours");
  for (const std::string& b : bits)
    for (const std::string& m : methods) {
      const PaperCell p = parq_table1(f.model, b, m);
      char paper[32];
      std::snprintf(paper, sizeof paper, "%.2f +- %.2f", p.mean, p.std);
      std::printf("%-8s %-12s %-16s %s\n", b.c_str(), m.c_str(), paper, mean_std(ours[{b, m}]).c_str());
    }
}

}  // namespace

void add_reproduce_parq_command(CLI::App& reproduce) {
  auto f = std::make_shared<ReproduceFlags>();
  auto* cmd = reproduce.add_subcommand(
      "parq-cifar", "PARQ Table 1: ResNet-20/56 on CIFAR-10, STE / BinaryRelax / PARQ at 1-4 bits and ternary");
  cmd->add_option("--data", f->data_dir, "CIFAR-10 binary folder (default $QNN_DATA_DIR/cifar-10-batches-bin)");
  cmd->add_option("--model", f->model, "resnet20 or resnet56")->capture_default_str();
  cmd->add_option("--bits", f->bits, "Comma-separated bit widths")->capture_default_str();
  cmd->add_option("--methods", f->methods, "Comma-separated methods")->capture_default_str();
  cmd->add_option("--seeds", f->seeds, "Comma-separated seeds (the paper: 3 runs)")->capture_default_str();
  cmd->add_option("--epochs-scale", f->epochs_scale,
                  "Scale the 200 epochs, LR milestones and anneal end (e.g. 0.05 = 10 epochs)")
      ->capture_default_str();
  cmd->add_option("--from", f->init_weights, "Start every run from these weights (the paper: from scratch)");
  cmd->add_option("--normalize", f->normalize, "Input statistics (default cifar10; imagenet for --from pretrained)");
  cmd->add_option("--out", f->out_dir, "Folder of the run folders")->capture_default_str();
  cmd->add_option("--workers", f->workers, "Data loader threads")->capture_default_str();
  cmd->add_option("--train-limit", f->train_limit, "Use only the first N training images (quick checks)");
  cmd->add_option("--test-limit", f->test_limit, "Use only the first N test images (quick checks)");
  cmd->callback([f] { run_reproduce(*f); });
}

}  // namespace qnn::apps
