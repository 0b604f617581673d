// `qnn demo spiral`: the smallest end-to-end check that the autograd core learns. A two-layer MLP
// (2 -> hidden -> 3, ReLU) is fitted to the 3-class spiral (apps/spiral.h) by full-batch gradient
// descent written out by hand (p -= lr * dL/dp under NoGradGuard), as a user would before nn/ and
// optim/ exist. Exits non-zero when the loss did not fall.
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "apps/cli_checks.h"
#include "apps/commands.h"
#include "apps/spiral.h"
#include "core/ops.h"

namespace qnn::apps {
namespace {

struct SpiralOptions {
  int epochs = 1000;
  uint64_t seed = 0;
  float lr = 1.0f;
  int64_t hidden = 64;
  int64_t points = 100;  // per class
};

constexpr int64_t kClasses = 3;

struct Mlp {
  Tensor w1, b1, w2, b2;

  // Kaiming-normal weights (std = sqrt(2 / fan_in), right for ReLU), zero biases.
  Mlp(int64_t in, int64_t hidden, int64_t out, Generator& gen)
      : w1(randn({in, hidden}, gen)), b1(zeros({hidden})), w2(randn({hidden, out}, gen)), b2(zeros({out})) {
    mul_(w1, std::sqrt(2.0f / in));
    mul_(w2, std::sqrt(2.0f / hidden));
    for (Tensor& p : params())
      p.set_requires_grad();
  }
  std::vector<Tensor> params() const { return {w1, b1, w2, b2}; }
  Tensor forward(const Tensor& x) const { return matmul(relu(matmul(x, w1) + b1), w2) + b2; }
};

// Fraction of rows whose largest logit is the label.
double accuracy(const Tensor& logits, const Tensor& labels) {
  const auto z = logits.to_vector<float>();
  const auto y = labels.to_vector<int64_t>();
  const int64_t n = logits.size(0), c = logits.size(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j)
      if (z[i * c + j] > z[i * c + best])
        best = j;
    correct += best == y[i];
  }
  return static_cast<double>(correct) / n;
}

void run_spiral(const SpiralOptions& o) {
  Generator gen(o.seed);
  const Spiral data = make_spiral(o.points, kClasses, gen);
  Mlp model(2, o.hidden, kClasses, gen);
  std::printf("spiral: %lld points, %lld classes; MLP 2-%lld-%lld, full-batch SGD lr=%g, %d epochs, seed %llu\n",
              static_cast<long long>(data.x.size(0)), static_cast<long long>(kClasses),
              static_cast<long long>(o.hidden), static_cast<long long>(kClasses), o.lr, o.epochs,
              static_cast<unsigned long long>(o.seed));
  const int print_every = std::max(1, o.epochs / 10);
  float first_loss = 0.0f;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    for (const Tensor& p : model.params())
      p.zero_grad();
    Tensor loss = cross_entropy(model.forward(data.x), data.labels);
    loss.backward();
    {
      NoGradGuard no_grad;  // the update itself must not be recorded
      for (const Tensor& p : model.params())
        add_(p, p.grad(), -o.lr);
    }
    if (epoch == 1)
      first_loss = loss.item();
    if (epoch == 1 || epoch % print_every == 0)
      std::printf("epoch %5d  loss %.4f\n", epoch, loss.item());
  }
  // The loss of the final weights (the printed ones are taken before each step's update).
  NoGradGuard no_grad;
  const Tensor logits = model.forward(data.x);
  const float final_loss = cross_entropy(logits, data.labels).item();
  std::printf("final: loss %.4f (initial %.4f), training accuracy %.1f%% (chance %.1f%%)\n", final_loss, first_loss,
              100.0 * accuracy(logits, data.labels), 100.0 / kClasses);
  if (!(final_loss < first_loss)) {
    std::fprintf(stderr, "error: the loss did not fall (%.4f -> %.4f)\n", first_loss, final_loss);
    throw CLI::RuntimeError(1);
  }
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "Small end-to-end examples");
  demo->require_subcommand(1);
  auto options = std::make_shared<SpiralOptions>();
  auto* cmd = demo->add_subcommand("spiral", "Fit a two-layer MLP to a 3-class 2-d spiral with hand-written SGD");
  cmd->add_option("--epochs", options->epochs, "Full-batch gradient steps")->capture_default_str()->check(positive());
  cmd->add_option("--seed", options->seed, "Seed of the data and the initial weights")->capture_default_str();
  cmd->add_option("--lr", options->lr, "Learning rate")->capture_default_str()->check(positive());
  cmd->add_option("--hidden", options->hidden, "Hidden units")->capture_default_str()->check(positive());
  cmd->add_option("--points", options->points, "Points per class")->capture_default_str()->check(CLI::Range(2, 100000));
  cmd->callback([options] { run_spiral(*options); });
}

}  // namespace qnn::apps
