// What of apps/ can be tested in-process: the bench's rate formulas (they must count as
// shared/bench/torch_ops_cpu.py does, or the two tables do not compare) and the spiral generator.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include "apps/bench_rates.h"
#include "apps/commands.h"
#include "apps/spiral.h"
#include "core/error.h"

using namespace qnn;
using namespace qnn::apps;

TEST_CASE("bench rates count as torch_ops_cpu.py") {
  CHECK(sgemm_flop(1024) == 2.0 * 1024 * 1024 * 1024);
  // conv3x3 128x16x32x32 -> 16: 2 * N * Cout * H * W * Cin * 9, hand-multiplied.
  CHECK(conv3x3_flop(128, 16, 32, 32) == 603979776.0);
  CHECK(conv3x3_flop(128, 64, 8, 8) == 2.0 * 128 * 64 * 64 * 64 * 9);
  const int64_t n = 16 * 1024 * 1024;
  CHECK(elementwise_bytes(n, 3) == 3.0 * 4 * n);  // a + b: two reads, one write
  const int64_t bn = 128 * 16 * 32 * 32;
  CHECK(batchnorm_forward_bytes(bn) == 3.0 * 4 * bn);
  CHECK(batchnorm_forward_backward_bytes(bn) == 8.0 * 4 * bn);
  // 2 GFLOP in 10 ms is 200 GFLOP/s.
  CHECK(giga_per_second(2e9, 10.0) == doctest::Approx(200.0));
}

TEST_CASE("median matches Python's statistics.median") {
  CHECK(median({3.0, 1.0, 2.0}) == 2.0);
  CHECK(median({4.0, 1.0, 3.0, 2.0}) == 2.5);  // even count: mean of the middle two
  CHECK(median({7.0}) == 7.0);
}

TEST_CASE("spiral: shapes, balanced labels, points inside the unit disc") {
  Generator gen(1);
  const Spiral s = make_spiral(50, 3, gen);
  REQUIRE(s.x.shape() == Shape{150, 2});
  REQUIRE(s.labels.shape() == Shape{150});
  CHECK(s.labels.dtype() == DType::Int64);
  const auto y = s.labels.to_vector<int64_t>();
  for (int64_t c = 0; c < 3; ++c)
    CHECK(std::count(y.begin(), y.end(), c) == 50);
  const auto x = s.x.to_vector<float>();
  // Point i of each arm has radius i / 49 whatever the angle noise.
  for (int64_t row = 0; row < 150; ++row) {
    const double r = std::hypot(x[2 * row], x[2 * row + 1]);
    CHECK(r == doctest::Approx((row % 50) / 49.0).epsilon(1e-5));
  }
}

TEST_CASE("spiral: the same seed gives the same data, another seed other data") {
  Generator g1(7), g2(7), g3(8);
  const auto a = make_spiral(20, 3, g1).x.to_vector<float>();
  const auto b = make_spiral(20, 3, g2).x.to_vector<float>();
  const auto c = make_spiral(20, 3, g3).x.to_vector<float>();
  CHECK(a == b);
  CHECK(a != c);
  // Without noise the arms are rigid rotations of each other: class 1 is class 0 turned by 4 rad.
  Generator g4(0);
  const auto clean = make_spiral(5, 3, g4, /*noise=*/0.0f).x.to_vector<float>();
  const double t0 = std::atan2(clean[2 * 4], clean[2 * 4 + 1]), t1 = std::atan2(clean[2 * 9], clean[2 * 9 + 1]);
  CHECK(std::remainder(t1 - t0 - 4.0, 2 * std::numbers::pi) == doctest::Approx(0.0).epsilon(1e-5));
}

TEST_CASE("qnn train: flags reach the configuration") {
  CLI::App app;
  add_train_command(app);
  // The configuration is checked before any data is read: the error shows the values the flags set.
  std::vector<std::string> args = {"0", "train", "--epochs", "3", "--batch", "0", "--eval-batch", "7"};
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  CHECK_THROWS_WITH_AS(app.parse(static_cast<int>(argv.size()), argv.data()),
                       doctest::Contains("got epochs 3, batch 0, eval_batch 7"), Error);
}

namespace {

std::string help_of(void (*add)(CLI::App&), const std::string& name) {
  CLI::App app;
  add(app);
  return app.get_subcommand(name)->help();
}

}  // namespace

TEST_CASE("help texts show the defaults of the config structs") {
  const std::string train = help_of(add_train_command, "train");
  CHECK(train.find("Learning rate (default 0.1)") != std::string::npos);
  CHECK(train.find("Batch size (default 128)") != std::string::npos);
  CHECK(train.find("Weight decay (default 0.0001)") != std::string::npos);
  CHECK(train.find("(default auto)") != std::string::npos);  // --normalize
  // qnn qat: the PARQ recipe's changes to the TrainConfig defaults, and the QatConfig's own.
  const std::string qat = help_of(add_qat_command, "qat");
  CHECK(qat.find("Weight decay (default 0.0002)") != std::string::npos);
  CHECK(qat.find("[80,120,150]") != std::string::npos);
  CHECK(qat.find("FP steps before QAT starts (default 200)") != std::string::npos);
  CHECK(qat.find("PARQ sigmoid steepness (default 100.0)") != std::string::npos);
}

TEST_CASE("numeric flag checks say what they expected in plain numbers") {
  CLI::App app;
  add_eval_command(app);
  std::vector<std::string> args = {"0", "eval", "--model", "resnet20", "--weights", "w", "--batch", "0"};
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
    FAIL("expected a validation error");
  } catch (const CLI::ValidationError& e) {
    CHECK(std::string(e.what()).find("got 0 (expected a number > 0)") != std::string::npos);
  }
}
