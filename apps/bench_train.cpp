// `qnn bench train --model resnet20 --batch 128 --steps 10 [--json]`: the workload of
// shared/bench/torch_resnet20_cpu.py (and torch_resnet18_cpu.py, torch_deit_cpu.py) in qnn: a
// training step (forward, cross-entropy, backward, SGD with momentum and weight decay, or AdamW for
// the transformers as torch_deit_cpu.py) on random data after 2 warm-up steps, then inference
// without gradients. Reports ms/step, img/s and peak memory.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "apps/cli_checks.h"
#include "apps/commands.h"
#include "core/allocator.h"
#include "core/ops.h"
#include "nn/models/registry.h"
#include "optim/adamw.h"
#include "optim/sgd.h"

namespace qnn::apps {
namespace {

struct BenchTrainOptions {
  std::string model = "resnet20";
  int64_t batch = 128, steps = 10, eval_batch = 256, eval_steps = 3, image = 0, classes = 0;
  bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void run_bench_train(const BenchTrainOptions& o) {
  manual_seed(0);
  const bool transformer = o.model.rfind("deit", 0) == 0 || o.model.rfind("vit", 0) == 0;
  const bool cifar = o.model.rfind("resnet", 0) == 0 && o.model != "resnet18" && o.model != "resnet50";
  const int64_t image = o.image > 0 ? o.image : (cifar || o.model == "vit_cifar" ? 32 : 224);
  nn::ModelOptions model_options;
  model_options.num_classes = o.classes > 0 ? o.classes : (image == 32 ? 10 : 1000);
  auto model = nn::make_model(o.model, model_options);
  std::unique_ptr<optim::Optimizer> opt;
  if (transformer) {
    optim::AdamWOptions a;
    a.lr = 5e-4;
    a.weight_decay = 0.05;
    opt = std::make_unique<optim::AdamW>(model->parameters(), a);
  } else {
    optim::SGDOptions s;
    s.lr = 0.1;
    s.momentum = 0.9;
    s.weight_decay = 1e-4;
    opt = std::make_unique<optim::SGD>(model->parameters(), s);
  }
  const Tensor x = randn({o.batch, 3, image, image});
  const Tensor y = randint(0, model_options.num_classes, {o.batch});
  auto step = [&] {
    opt->zero_grad();
    cross_entropy((*model)(x), y).backward();
    opt->step();
  };
  model->train();
  for (int i = 0; i < 2; ++i)
    step();
  reset_peak_memory();
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.steps; ++i)
    step();
  const double train_s = seconds_since(start) / static_cast<double>(o.steps);
  const size_t train_peak = cpu_allocator_stats().peak_allocated_bytes;

  model->eval();
  NoGradGuard no_grad;
  const Tensor xe = randn({o.eval_batch, 3, image, image});
  (*model)(xe);
  reset_peak_memory();
  start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.eval_steps; ++i)
    (*model)(xe);
  const double eval_s = seconds_since(start) / static_cast<double>(o.eval_steps);
  const size_t eval_peak = cpu_allocator_stats().peak_allocated_bytes;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);

  const double train_ips = static_cast<double>(o.batch) / train_s;
  const double eval_ips = static_cast<double>(o.eval_batch) / eval_s;
  if (o.json) {
    nlohmann::ordered_json j;
    j["model"] = o.model;
    j["threads"] = num_threads();
    j["blas_kernel"] = blas_kernel();
    j["batch"] = o.batch;
    j["train_ms_per_step"] = train_s * 1e3;
    j["train_img_s"] = train_ips;
    j["train_peak_bytes"] = train_peak;
    j["eval_batch"] = o.eval_batch;
    j["eval_img_s"] = eval_ips;
    j["eval_peak_bytes"] = eval_peak;
    j["max_rss_kib"] = usage.ru_maxrss;
    std::cout << j.dump() << '\n';
    return;
  }
  std::printf(
      "qnn %s threads=%d blas=%s %s: train batch=%lld: %.1f ms/step, %.0f img/s (peak %.1f MiB in tensors); "
      "eval batch=%lld: %.0f img/s (peak %.1f MiB); max RSS %.1f MiB\n",
      QNN_VERSION, num_threads(), blas_kernel().c_str(), o.model.c_str(), static_cast<long long>(o.batch),
      train_s * 1e3, train_ips, static_cast<double>(train_peak) / (1 << 20), static_cast<long long>(o.eval_batch),
      eval_ips, static_cast<double>(eval_peak) / (1 << 20), static_cast<double>(usage.ru_maxrss) / 1024.0);
}

}  // namespace

void add_bench_train_command(CLI::App& bench) {
  auto o = std::make_shared<BenchTrainOptions>();
  auto* cmd =
      bench.add_subcommand("train", "Time a training step and inference of a model (as shared/bench/torch_*_cpu.py)");
  cmd->add_option("--model", o->model, "Model name")->capture_default_str();
  cmd->add_option("--batch", o->batch, "Training batch")->capture_default_str()->check(positive());
  cmd->add_option("--steps", o->steps, "Timed training steps")->capture_default_str()->check(positive());
  cmd->add_option("--eval-batch", o->eval_batch, "Inference batch")->capture_default_str()->check(positive());
  cmd->add_option("--eval-steps", o->eval_steps, "Timed inference batches")->capture_default_str()->check(positive());
  cmd->add_option("--image", o->image, "Image side (default: 32 for CIFAR models, 224 otherwise)");
  cmd->add_option("--classes", o->classes, "Classes (default: 10 for 32x32, 1000 otherwise)");
  cmd->add_flag("--json", o->json, "One JSON object");
  cmd->callback([o] { run_bench_train(*o); });
}

}  // namespace qnn::apps
