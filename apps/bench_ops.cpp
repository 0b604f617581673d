// `qnn bench ops`: single-kernel timings that line up with shared/bench/torch_ops_cpu.py: the same
// shapes, the same warm-up and repetitions, median time, and rates counted the same way
// (apps/bench_rates.h). Both tables name the BLAS kernel, since OpenBLAS's core type
// (OPENBLAS_CORETYPE) changes sgemm and conv speed by up to 2x.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/bench_rates.h"
#include "apps/cli_checks.h"
#include "apps/commands.h"
#include "core/allocator.h"
#include "core/ops.h"

namespace qnn::apps {
namespace {

struct BenchOptions {
  int reps = 20;  // timed repetitions, as torch_ops_cpu.py's `steps`
  int warmup = 3;
  int64_t batch = 128;
  bool json = false;
  std::string filter;  // run only the lines whose "op shape" contains this
};

enum class Unit { Flop, Bytes };

// Times each op and prints its line as soon as it is done (a long run shows progress).
class Runner {
 public:
  explicit Runner(const BenchOptions& options) : options_(options) {}

  void run(const std::string& op, const std::string& shape, Unit unit, double amount, const std::function<void()>& fn) {
    if (!options_.filter.empty() && (op + " " + shape).find(options_.filter) == std::string::npos)
      return;
    reset_peak_memory();
    for (int i = 0; i < options_.warmup; ++i)
      fn();
    std::vector<double> ms(options_.reps);
    for (auto& t : ms) {
      const auto start = std::chrono::steady_clock::now();
      fn();
      t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    const double med = median(ms), best = *std::min_element(ms.begin(), ms.end());
    print(op, shape, unit, med, best, giga_per_second(amount, med));
    peak_bytes_ = std::max(peak_bytes_, cpu_allocator_stats().peak_allocated_bytes);
  }

  // The most memory in live tensors while any selected op ran (its inputs included).
  size_t peak_bytes() const { return peak_bytes_; }

 private:
  void print(const std::string& op, const std::string& shape, Unit unit, double med, double best, double rate) const {
    if (options_.json) {
      nlohmann::ordered_json line = {{"op", op}, {"shape", shape}, {"ms", med}, {"min_ms", best}};
      line[unit == Unit::Flop ? "gflops" : "gbs"] = rate;
      std::cout << line.dump() << std::endl;
      return;
    }
    std::printf("%-34s %-20s %10.3f %10.3f %9.1f %s\n", op.c_str(), shape.c_str(), med, best, rate,
                unit == Unit::Flop ? "GFLOP/s" : "GB/s");
    std::fflush(stdout);
  }

  BenchOptions options_;
  size_t peak_bytes_ = 0;
};

std::string dims(std::initializer_list<int64_t> sizes) {
  std::string s;
  for (int64_t v : sizes)
    s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

void bench_sgemm(Runner& r, Generator& gen) {
  for (int64_t n : {1024, 2048}) {
    Tensor a = randn({n, n}, gen), b = randn({n, n}, gen);
    r.run("sgemm", dims({n, n, n}), Unit::Flop, sgemm_flop(n), [&] { matmul(a, b); });
  }
}

// ResNet-20's three 3x3 convolutions (C_out = C_in, padding 1), weights at Kaiming scale.
void bench_conv(Runner& r, Generator& gen, int64_t batch) {
  const std::pair<int64_t, int64_t> layers[] = {{16, 32}, {32, 16}, {64, 8}};
  for (auto [ch, hw] : layers) {
    Tensor x = randn({batch, ch, hw, hw}, gen).set_requires_grad();
    Tensor w = randn({ch, ch, 3, 3}, gen);
    mul_(w, std::sqrt(2.0f / (9 * ch)));
    w.set_requires_grad();
    Tensor gy = randn({batch, ch, hw, hw}, gen);
    Conv2dOptions opt;
    opt.padding = {1, 1};
    const std::string shape = dims({batch, ch, hw, hw}) + " -> " + std::to_string(ch);
    const double flop = conv3x3_flop(batch, ch, hw, hw);
    r.run("conv3x3 forward", shape, Unit::Flop, flop, [&] { conv2d(x, w, Tensor(), opt); });
    r.run("conv3x3 forward+backward", shape, Unit::Flop, 3 * flop, [&] {
      x.zero_grad();  // fresh gradients each time, as torch.autograd.grad (no accumulation)
      w.zero_grad();
      conv2d(x, w, Tensor(), opt).backward(gy);
    });
  }
}

void bench_elementwise(Runner& r, Generator& gen) {
  const int64_t n = 16 * 1024 * 1024;
  Tensor a = randn({n}, gen), b = randn({n}, gen), c = randn({n}, gen);
  r.run("add allocating (a+b)", "16M", Unit::Bytes, elementwise_bytes(n, 3), [&] { add(a, b); });
  r.run("relu allocating", "16M", Unit::Bytes, elementwise_bytes(n, 2), [&] { relu(a); });
  r.run("relu_ in place", "16M", Unit::Bytes, elementwise_bytes(n, 2), [&] { relu_(c); });
}

// nn.BatchNorm2d(16).train(): affine, running statistics updated every call.
void bench_batchnorm(Runner& r, Generator& gen, int64_t batch) {
  Tensor x = randn({batch, 16, 32, 32}, gen).set_requires_grad();
  Tensor gy = randn(x.shape(), gen);
  Tensor weight = ones({16}).set_requires_grad(), bias = zeros({16}).set_requires_grad();
  Tensor running_mean = zeros({16}), running_var = ones({16});
  auto forward = [&] { return batch_norm(x, running_mean, running_var, weight, bias, /*training=*/true); };
  const std::string shape = dims({batch, 16, 32, 32});
  r.run("batchnorm2d train forward", shape, Unit::Bytes, batchnorm_forward_bytes(x.numel()), [&] { forward(); });
  r.run("batchnorm2d train forward+backward", shape, Unit::Bytes, batchnorm_forward_backward_bytes(x.numel()), [&] {
    for (const Tensor& t : {x, weight, bias})
      t.zero_grad();
    forward().backward(gy);
  });
}

void run_bench_ops(const BenchOptions& options) {
  init_threads();
  if (!options.json) {
    std::printf("qnn %s bench ops: threads=%d, blas kernel=%s, median of %d after %d warm-up, batch=%lld\n",
                QNN_VERSION, num_threads(), blas_kernel().c_str(), options.reps, options.warmup,
                static_cast<long long>(options.batch));
    std::printf("%-34s %-20s %10s %10s %17s\n", "op", "shape", "median ms", "min ms", "rate");
  }
  Generator gen(0);
  Runner runner(options);
  bench_sgemm(runner, gen);
  bench_conv(runner, gen, options.batch);
  bench_elementwise(runner, gen);
  bench_batchnorm(runner, gen, options.batch);
  const size_t peak = runner.peak_bytes();
  if (options.json) {
    std::cout << nlohmann::ordered_json{{"peak_bytes", peak},
                                        {"threads", num_threads()},
                                        {"blas_kernel", blas_kernel()}}
                     .dump()
              << std::endl;
  } else {
    std::printf("peak memory: %.1f MiB in live tensors while timing (cpu_allocator_stats())\n",
                peak / (1024.0 * 1024.0));
  }
}

}  // namespace

void add_bench_ops_command(CLI::App& bench) {
  auto options = std::make_shared<BenchOptions>();
  auto* cmd = bench.add_subcommand(
      "ops", "Time single ops (sgemm, ResNet-20 convs, elementwise, batch norm) as shared/bench/torch_ops_cpu.py");
  cmd->add_flag("--json", options->json,
                "One JSON object per line (op, shape, ms, min_ms, gflops|gbs), then peak_bytes");
  cmd->add_option("--reps", options->reps, "Timed repetitions per op (median reported)")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--warmup", options->warmup, "Untimed repetitions first")
      ->capture_default_str()
      ->check(non_negative());
  cmd->add_option("--batch", options->batch, "Batch size of the conv and batch-norm inputs")
      ->capture_default_str()
      ->check(positive());
  cmd->add_option("--filter", options->filter, "Run only the ops whose 'op shape' contains this text");
  cmd->callback([options] { run_bench_ops(*options); });
}

}  // namespace qnn::apps
