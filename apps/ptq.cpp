// `qnn ptq --model resnet20 --weights W --data DIR --method gpfq --bits 4 --out FILE`:
// post-training quantization (engine/ptq_pipeline.h), or `--config FILE` (flags override the file).
// The run gets a folder (--out-dir/--name: config.json, run.json, result.json and, unless --out
// says otherwise, quantized.safetensors).
#include <fstream>
#include <iostream>
#include <memory>

#include "apps/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "engine/ptq_pipeline.h"

namespace qnn::apps {

namespace {

using engine::PtqRunConfig;

struct PtqFlags {
  std::string config_file;
  bool json = false;
  PtqRunConfig c;
};

}  // namespace

void add_ptq_command(CLI::App& app) {
  auto f = std::make_shared<PtqFlags>();
  auto* cmd = app.add_subcommand("ptq",
                                 "Post-training quantization: round-to-nearest, GPFQ (P2 Algorithm 1) and sparse GPFQ; "
                                 "prints float, RTN and quantized accuracy and saves the quantized model");
  PtqRunConfig& c = f->c;
  c.out_dir = "runs";  // the command's default: every `qnn ptq` run gets a folder
  cmd->add_option("--config", f->config_file, "JSON file with any of the options below (flags override it)");
  cmd->add_option("--model", c.model, "Model name (see `qnn models`)")->capture_default_str();
  cmd->add_option("--weights", c.weights, "Trained weights (safetensors); none: random init, to test a pipeline");
  cmd->add_option("--dataset", c.dataset, "cifar10, cifar100 or imagenet")->capture_default_str();
  cmd->add_option("--data", c.data_dir, "Dataset folder (default: $QNN_DATA_DIR/...)");
  cmd->add_option("--normalize", c.normalize, "auto (weights' metadata), cifar10 or imagenet")->capture_default_str();
  cmd->add_option("--method", c.method, "rtn, gpfq, gpfq-soft (P2 (27)) or gpfq-hard (P2 (28))")->capture_default_str();
  cmd->add_option_function<std::string>(
      "--bits", [&c](const std::string& b) { c.bits = {b}; },
      "Bits b (the alphabet has 2^b + 1 levels), ternary or binary (default " + c.bits.text + ")");
  cmd->add_option("--alphabet", c.alphabet, "midtread (P2 (3), default) or midrise0 (P1 (4))")->capture_default_str();
  cmd->add_option("--C", c.C, "Step-size constant: R = C * mean_j ||W_j||_inf (P2 (32))")->capture_default_str();
  cmd->add_option("--m", c.m, "Calibration images per layer (a fresh batch for every layer)")->capture_default_str();
  cmd->add_option("--p", c.p, "Fraction of disjoint patches kept per image for conv layers")->capture_default_str();
  cmd->add_option("--lambda", c.lambda, "Sparse GPFQ's threshold, in weight units")->capture_default_str();
  cmd->add_flag("--fold-bn", c.fold_bn, "Fold batch norms into the convolutions first (P2 App. B)");
  cmd->add_flag("--bias-correct", c.bias_correct, "The dagger variant: last layer float + bias correction");
  cmd->add_flag("--per-channel", c.per_channel,
                "One step size per output channel (ours; the papers use one per layer)");
  cmd->add_flag("--hard-keep-qmax", c.hard_keep_qmax, "gpfq-hard: shrink delta so the top level stays C r-bar");
  cmd->add_option("--bits-per-layer", c.bits_per_layer, "Mixed precision: JSON {default, kinds, layers}");
  cmd->add_option("--search-C", c.search_C, "FROM:TO:STEP: choose C on held-out training images first");
  cmd->add_option("--search-m", c.search_m, "m while searching C")->capture_default_str();
  cmd->add_option("--holdout", c.holdout, "Training images held out for --search-C")->capture_default_str();
  cmd->add_option("--form", c.form, "GPFQ kernel: auto, direct (P2 (8)-(9)) or gram")->capture_default_str();
  cmd->add_option("--seed", c.seed, "Seed of the calibration order and patch sampling")->capture_default_str();
  cmd->add_option("--eval-batch", c.eval_batch, "Evaluation batch size")->capture_default_str();
  cmd->add_option("--workers", c.workers, "Data loader threads")->capture_default_str();
  cmd->add_option("--test-limit", c.test_limit, "Only the first N test images (0: all)")->capture_default_str();
  cmd->add_flag("--skip-fp", c.skip_fp, "Do not evaluate the float model");
  cmd->add_flag("--skip-rtn", c.skip_rtn, "Do not evaluate round-to-nearest");
  cmd->add_option("--out", c.out, "Write the quantized model here (default: quantized.safetensors in the run folder)");
  cmd->add_option("--out-dir", c.out_dir, "Folder of run folders (\"\": no run folder)")->capture_default_str();
  cmd->add_option("--name", c.run_name, "Run folder name (default ptq-<model>-<method>-<bits>-seed<seed>)");
  cmd->add_flag("--json", f->json, "Print the result as one JSON object at the end");
  cmd->callback([f, cmd] {
    PtqRunConfig config = f->c;
    if (!f->config_file.empty()) {
      const nlohmann::json file = read_json_file(f->config_file, "ptq --config");
      // Flags given on the command line win over the file, which wins over the command's defaults.
      nlohmann::json merged = {{"out_dir", "runs"}};
      for (const auto& [key, value] : file.items())
        merged[key] = value;
      const nlohmann::json flags = f->c.to_json();
      for (const auto* opt : cmd->get_options()) {
        if (opt->count() == 0 || opt->get_name() == "--config" || opt->get_name() == "--json")
          continue;
        std::string key = opt->get_name().substr(2);
        for (char& ch : key)
          if (ch == '-')
            ch = '_';
        if (key == "data")
          key = "data_dir";
        if (key == "search_c")
          key = "search_C";
        if (key == "c")
          key = "C";
        if (key == "name")
          key = "run_name";
        if (flags.contains(key))
          merged[key] = flags[key];
      }
      config = PtqRunConfig::from_json(merged);
    }
    const engine::PtqRunResult r = engine::run_ptq(config, std::cout);
    if (f->json)
      std::cout << r.to_json().dump() << '\n';
  });
}

}  // namespace qnn::apps
