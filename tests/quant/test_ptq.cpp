// quant/ptq passes on a small conv net: RTN, GPFQ (Algorithm 1) end to end with the quantized
// file written and read back, BN folding (P2 (50)), bias correction (the dagger variant), bit
// plans, and the errors bad input must give.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/autograd.h"
#include "core/creation.h"
#include "core/error.h"
#include "core/generator.h"
#include "core/ops.h"
#include "nn/nn.h"
#include "quant/ptq/bn_fold.h"
#include "quant/ptq/layers.h"
#include "quant/ptq/ptq.h"
#include "quant/quantized_weights.h"
#include "tests/check_close.h"
#include "tests/quant/gpfq_reference.h"

using namespace qnn;
using namespace qnn::quant;

namespace {

Tensor random_tensor(const Shape& shape, Generator& gen, float scale = 1.0f) {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  std::vector<float> v(n);
  for (float& x : v)
    x = scale * gen.normal();
  return from_vector<float>(v, shape);
}

// conv(3->6, 3x3, pad 1) -> BN -> ReLU -> conv(6->4, 3x3, stride 2) -> BN -> ReLU -> flatten -> linear(64->5)
std::shared_ptr<nn::Sequential> small_net(uint64_t seed) {
  Generator gen(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->push_back(std::make_shared<nn::Conv2d>(3, 6, 3, nn::Conv2dArgs{.padding = 1, .bias = false}, gen));
  auto bn1 = net->push_back(std::make_shared<nn::BatchNorm2d>(6));
  net->push_back(std::make_shared<nn::ReLU>());
  net->push_back(std::make_shared<nn::Conv2d>(6, 4, 3, nn::Conv2dArgs{.stride = 2, .padding = 1, .bias = true}, gen));
  auto bn2 = net->push_back(std::make_shared<nn::BatchNorm2d>(4));
  net->push_back(std::make_shared<nn::ReLU>());
  net->push_back(std::make_shared<nn::Flatten>());
  net->push_back(std::make_shared<nn::Linear>(64, 5, true, gen));
  NoGradGuard ng;
  for (auto bn : {bn1, bn2}) {  // non-trivial running statistics and affine parameters
    const int64_t C = bn->num_features;
    copy_(bn->running_mean, random_tensor({C}, gen, 0.2f));
    copy_(bn->running_var, add(abs(random_tensor({C}, gen, 0.1f)), from_vector(std::vector<float>{0.5f})));
    copy_(bn->weight, add(random_tensor({C}, gen, 0.2f), from_vector(std::vector<float>{1.0f})));
    copy_(bn->bias, random_tensor({C}, gen, 0.1f));
  }
  net->eval();
  return net;
}

std::shared_ptr<nn::Sequential> copy_of(nn::Sequential& net, uint64_t seed) {
  auto copy = small_net(seed + 1000);
  copy->load_state_dict(net.state_dict());
  copy->eval();
  return copy;
}

Tensor forward(nn::Module& net, const Tensor& x) {
  NoGradGuard ng;
  return net.forward(x);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.contiguous().to_vector<float>(), y = b.contiguous().to_vector<float>();
  double d = 0;
  for (size_t i = 0; i < x.size(); ++i)
    d = std::max(d, std::fabs(static_cast<double>(x[i]) - y[i]));
  return d;
}

bool on_alphabet(const Tensor& w, const Alphabet& a) {
  for (float v : w.contiguous().to_vector<float>())
    if (a.index_of(v) < 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("quantizable layers: every Conv2d and Linear in registration order; a model without any is an error") {
  auto net = small_net(1);
  const auto layers = quantizable_layers(*net);
  REQUIRE(layers.size() == 3);
  CHECK(layers[0].name == "0");
  CHECK(layers[1].name == "3");
  CHECK(layers[2].name == "7");
  CHECK(std::string(layers[2].kind()) == "Linear");
  auto empty = std::make_shared<nn::Sequential>();
  empty->push_back(std::make_shared<nn::ReLU>());
  CHECK_THROWS_WITH_AS(quantizable_layers(*empty), doctest::Contains("has no Conv2d or Linear"), Error);
}

TEST_CASE("RTN puts every weight on its layer's alphabet and leaves biases alone") {
  auto net = small_net(2);
  const Tensor bias_before = net->at<nn::Linear>(7)->bias.clone();
  PtqOptions o;
  o.method = PtqMethod::rtn;
  o.alphabet.bits = 3;
  const Tensor w_before = net->at<nn::Conv2d>(0)->weight.clone();
  const PtqResult r = rtn(*net, o);
  REQUIRE(r.quantized.size() == 3);
  for (const auto& layer : quantizable_layers(*net)) {
    const auto a = layer_alphabets(layer.weight(), LayerPrecision{true, AlphabetFamily::midtread, 3}, o);
    CHECK(on_alphabet(layer.weight(), a[0]));
  }
  // Each weight is Q(w) of its float value.
  const auto before = w_before.to_vector<float>(), after = net->at<nn::Conv2d>(0)->weight.to_vector<float>();
  const Alphabet& a = r.quantized[0].alphabets[0];
  for (size_t i = 0; i < before.size(); ++i)
    CHECK(after[i] == a.nearest(before[i]));
  CHECK(max_abs_diff(bias_before, net->at<nn::Linear>(7)->bias) == 0);
}

TEST_CASE("RTN per channel: every row rounds to the nearest level of its own alphabet, R_j = C max |W_j|") {
  auto net = small_net(12);
  std::vector<testing::Matrix> before;
  for (const auto& layer : quantizable_layers(*net))
    before.push_back(testing::to_matrix(layer.weight()));
  PtqOptions o;
  o.method = PtqMethod::rtn;
  o.alphabet.bits = 3;  // K = 4
  o.alphabet.C = 0.8;   // some weights beyond R_j: clipped
  o.alphabet.per_channel = true;
  rtn(*net, o);
  size_t l = 0;
  for (const auto& layer : quantizable_layers(*net)) {
    const testing::Matrix& W = before[l++];
    const testing::Matrix Q = testing::to_matrix(layer.weight());
    const std::vector<double> R = testing::radii(W, 0.8, true);
    int64_t wrong = 0;
    for (int64_t j = 0; j < W.rows; ++j) {
      const std::vector<double> levels = testing::midtread_levels(4, R[j] / 4);  // P2 (3), (31)
      for (int64_t t = 0; t < W.cols; ++t) {
        double nearest = levels.front();
        for (double p : levels)
          if (std::fabs(p - W(j, t)) < std::fabs(nearest - W(j, t)))
            nearest = p;
        wrong += std::fabs(Q(j, t) - nearest) > 1e-6 * R[j];  // P2 (5), row j's alphabet
      }
    }
    CAPTURE(layer.name);
    CHECK(wrong == 0);
  }
}

TEST_CASE("gpfq-hard alphabets: P2 (4) with delta of P2 (32), or delta shrunk to keep the top level C r-bar") {
  const Tensor W = from_vector<float>({1.0f, -2.0f, 0.5f, 0.25f}, {2, 2});  // r-bar = 1.25
  PtqOptions o;
  o.method = PtqMethod::gpfq_hard;
  o.alphabet.C = 1.2;  // R = 1.5
  o.lambda = 0.3f;
  const LayerPrecision two_bits{true, AlphabetFamily::midtread, 2};  // K = 2
  // The paper's text: delta = R / K = 0.75, levels {0} u {+-(0.3 + 0.75 k) : k = 0, 1, 2}.
  const std::vector<Alphabet> paper = layer_alphabets(W, two_bits, o);
  REQUIRE(paper.size() == 1);
  CHECK(paper[0].kind() == Alphabet::Kind::thresholded);
  testing::check_close(paper[0].levels(), std::vector<double>{-1.8, -1.05, -0.3, 0, 0.3, 1.05, 1.8}, 1e-6);
  // The authors' code: delta = (R - lambda) / K = 0.6, so the top level stays R = 1.5.
  o.hard_keep_qmax = true;
  const std::vector<Alphabet> kept = layer_alphabets(W, two_bits, o);
  testing::check_close(kept[0].levels(), std::vector<double>{-1.5, -0.9, -0.3, 0, 0.3, 0.9, 1.5}, 1e-6);
  o.lambda = 1.5f;
  CHECK_THROWS_WITH_AS(layer_alphabets(W, two_bits, o), doctest::Contains("lambda = 1.5 is not below"), Error);
}

TEST_CASE("GPFQ end to end: analog untouched, weights on their alphabets, saved and reloaded bit-exactly") {
  auto analog = small_net(3);
  auto quantized = copy_of(*analog, 3);
  const auto analog_state_before = analog->state_dict();
  std::vector<Tensor> analog_copy;
  for (const auto& [n, t] : analog_state_before)
    analog_copy.push_back(t.clone());
  Generator data_gen(9);
  int calls = 0;
  auto batches = [&](int64_t m) {
    ++calls;
    return random_tensor({m, 3, 8, 8}, data_gen);
  };
  PtqOptions o;
  o.alphabet.bits = 4;
  o.alphabet.C = 1.2;
  o.m = 20;
  o.p = 0.5;
  const PtqResult r = gpfq(*analog, *quantized, batches, o);
  CHECK(calls == 3);  // a fresh batch per layer (Algorithm 1)
  REQUIRE(r.layers.size() == 3);
  // conv 0 on 8x8, 3x3 pad 1, patches with stride 3: L = 3^2 = 9, T = floor(4.5) + 1 = 5 per image.
  CHECK(r.layers[0].rows == 20 * 5);
  CHECK(r.layers[0].columns == 27);
  CHECK(r.layers[2].rows == 20);  // Linear: one row per image
  for (const auto& l : r.layers)
    CHECK((l.relative_error >= 0 && l.relative_error < 0.5));
  size_t i = 0;
  for (const auto& [n, t] : analog->state_dict())
    CHECK(max_abs_diff(t, analog_copy[i++]) == 0);

  const std::string path = (std::filesystem::temp_directory_path() / "qnn_test_ptq.safetensors").string();
  save_quantized(path, quantized->state_dict(), r.quantized, {{"method", "gpfq"}});
  const QuantizedFile f = load_quantized(path);
  CHECK(f.metadata.at("method") == "gpfq");
  REQUIRE(f.quantized.size() == 3);
  auto reloaded = copy_of(*analog, 3);
  reloaded->load_state_dict(f.state);
  const Tensor x = random_tensor({4, 3, 8, 8}, data_gen);
  CHECK(max_abs_diff(forward(*reloaded, x), forward(*quantized, x)) == 0);
  // 4 bits = 17 levels -> 5-bit codes: the file is much smaller than float32.
  CHECK(packed_code_bytes(6 * 27, 5) == (6 * 27 * 5 + 7) / 8);
  CHECK(std::filesystem::file_size(path) < 4u * 2000u);
  std::filesystem::remove(path);
}

TEST_CASE("GPFQ: the capture chunk bounds memory and changes nothing (conv patches drawn once per layer)") {
  auto analog = small_net(15);
  std::vector<std::vector<float>> results;
  for (int64_t chunk : {256, 7, 1}) {
    auto quantized = copy_of(*analog, 15);
    Generator data(16);
    PtqOptions o;
    o.m = 20;
    o.p = 0.5;  // patches drawn at random: every chunk must use its own images' draws
    o.chunk = chunk;
    gpfq(
        *analog, *quantized,
        [&](int64_t m) {
          return random_tensor({m, 3, 8, 8}, data);
        },
        o);
    std::vector<float> all;
    for (const auto& layer : quantizable_layers(*quantized)) {
      const std::vector<float> q = layer.weight().contiguous().to_vector<float>();
      all.insert(all.end(), q.begin(), q.end());
    }
    results.push_back(all);
  }
  CHECK(results[1] == results[0]);
  CHECK(results[2] == results[0]);
}

TEST_CASE("GPFQ on a grouped conv: the neurons of group g see only group g's input channels") {
  // conv(16 -> 6, 1x1, groups 2) -> ReLU -> flatten -> linear(54 -> 3); with 1x1 kernels and p = 1
  // the rows of X are the pixels of every image in order and its columns the input channels.
  // Channels share a common signal z, with the same sign in group 0 and alternating signs in group
  // 1, so that the error feedback of P2 (8) differs between the groups' columns.
  auto make = [](uint64_t seed) {
    Generator gen(seed);
    auto net = std::make_shared<nn::Sequential>();
    net->push_back(std::make_shared<nn::Conv2d>(16, 6, 1, nn::Conv2dArgs{.groups = 2, .bias = true}, gen));
    net->push_back(std::make_shared<nn::ReLU>());
    net->push_back(std::make_shared<nn::Flatten>());
    net->push_back(std::make_shared<nn::Linear>(54, 3, true, gen));
    net->eval();
    return net;
  };
  auto analog = make(17), quantized = make(18);
  quantized->load_state_dict(analog->state_dict());
  Generator data(19);
  std::vector<Tensor> batches;
  PtqOptions o;
  o.m = 12;
  o.p = 1.0;
  o.alphabet.bits = 3;
  o.form = GpfqForm::direct;
  gpfq(
      *analog, *quantized,
      [&](int64_t m) {
        std::vector<float> v(m * 16 * 9);
        for (int64_t b = 0; b < m; ++b)
          for (int64_t pix = 0; pix < 9; ++pix) {
            const float z = data.normal();
            for (int64_t c = 0; c < 16; ++c)
              v[(b * 16 + c) * 9 + pix] = (c < 8 || c % 2 == 0 ? z : -z) + 0.3f * data.normal();
          }
        batches.push_back(from_vector<float>(v, {m, 16, 3, 3}));
        return batches.back();
      },
      o);
  const testing::Matrix W = testing::to_matrix(analog->at<nn::Conv2d>(0)->weight);  // [6, 8]
  const testing::Matrix Q = testing::to_matrix(quantized->at<nn::Conv2d>(0)->weight);
  const testing::Matrix in = testing::to_matrix(batches.front());  // [12, 16 * 9]
  testing::Matrix X(12 * 9, 16);
  for (int64_t b = 0; b < 12; ++b)
    for (int64_t c = 0; c < 16; ++c)
      for (int64_t pix = 0; pix < 9; ++pix)
        X(b * 9 + pix, c) = in(b, c * 9 + pix);
  const std::vector<double> R = testing::radii(W, o.alphabet.C, false);  // one alphabet for the layer
  const std::vector<std::vector<double>> A = {testing::midtread_levels(4, R[0] / 4)};
  for (int64_t g = 0; g < 2; ++g) {
    CAPTURE(g);
    const testing::Matrix Xg = testing::columns(X, 8 * g, 8);  // first layer: X-tilde = X
    const testing::Matrix Wg = testing::rows_of(W, 3 * g, 3), Qg = testing::rows_of(Q, 3 * g, 3);
    const testing::PathCheck r = testing::check_gpfq_path(Wg, Xg, Xg, Qg, A, testing::Rule::plain, 0);
    CAPTURE(r.first_problem);
    CHECK(r.wrong == 0);
    CHECK(r.off_alphabet == 0);
    // The other group's columns would have given other choices (the check has power).
    const testing::Matrix other = testing::columns(X, 8 * (1 - g), 8);
    CHECK(testing::check_gpfq_path(Wg, other, other, Qg, A, testing::Rule::plain, 0).wrong > 5);
  }
}

TEST_CASE("save_quantized refuses a weight that is not on its alphabet") {
  auto net = small_net(4);
  const std::string path = (std::filesystem::temp_directory_path() / "qnn_test_bad.safetensors").string();
  QuantizedParam p{"0.weight", {Alphabet::midtread(2, 0.1f)}};
  CHECK_THROWS_WITH_AS(save_quantized(path, net->state_dict(), {p}), doctest::Contains("'0.weight' element 0"), Error);
  QuantizedParam missing{"9.weight", {Alphabet::midtread(2, 0.1f)}};
  CHECK_THROWS_WITH_AS(save_quantized(path, net->state_dict(), {missing}), doctest::Contains("'9.weight'"), Error);
  CHECK_THROWS_WITH_AS(load_quantized("/nonexistent/q.safetensors"), doctest::Contains("/nonexistent/q.safetensors"),
                       Error);
}

TEST_CASE("BN folding, P2 (50), with running variances near eps: w_new = w gamma / sqrt(sigma^2 + eps)") {
  auto net = small_net(13);
  auto bn = net->at<nn::BatchNorm2d>(1);
  {
    NoGradGuard ng;  // variances of the order of eps = 1e-5: leaving eps out changes the scale by 5% or more
    copy_(bn->running_var, from_vector<float>({1e-5f, 2e-5f, 5e-5f, 1e-4f, 2e-4f, 3e-5f}, {6}));
  }
  REQUIRE(bn->args.eps == 1e-5f);
  const std::vector<float> w = net->at<nn::Conv2d>(0)->weight.to_vector<float>(),
                           var = bn->running_var.to_vector<float>(), gamma = bn->weight.to_vector<float>(),
                           mu = bn->running_mean.to_vector<float>(), beta = bn->bias.to_vector<float>();
  Generator gen(14);
  const Tensor x = random_tensor({2, 3, 8, 8}, gen);
  const Tensor before = forward(*net, x);
  fold_batchnorm(*net);
  const std::vector<float> w_new = net->at<nn::Conv2d>(0)->weight.to_vector<float>(),
                           b_new = bn->bias.to_vector<float>();
  const size_t per = w.size() / 6;
  for (size_t c = 0; c < 6; ++c) {
    const double s = gamma[c] / std::sqrt(static_cast<double>(var[c]) + 1e-5);
    for (size_t i = 0; i < per; ++i)
      CHECK(w_new[c * per + i] == doctest::Approx(w[c * per + i] * s).epsilon(1e-6));
    CHECK(b_new[c] == doctest::Approx((0.0 - mu[c]) * s + beta[c]).epsilon(1e-6));  // the conv has no bias
  }
  const Tensor after = forward(*net, x);
  CHECK(max_abs_diff(before, after) < 1e-4 * (1 + max_abs_diff(before, zeros_like(before))));
}

TEST_CASE("BN folding (P2 (50)) leaves the network's function unchanged and the BN a pure bias") {
  auto net = small_net(5);
  Generator gen(6);
  const Tensor x = random_tensor({3, 3, 8, 8}, gen);
  const Tensor before = forward(*net, x);
  const auto pairs = fold_batchnorm(*net);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0] == std::make_pair(std::string("0"), std::string("1")));
  CHECK(pairs[1] == std::make_pair(std::string("3"), std::string("4")));
  const Tensor after = forward(*net, x);
  CHECK(max_abs_diff(before, after) < 1e-5);
  // The BN now adds its bias exactly: BN(z) - z is that bias.
  auto bn = net->at<nn::BatchNorm2d>(1);
  const Tensor z = random_tensor({2, 6, 4, 4}, gen);
  const auto y = forward(*bn, z).to_vector<float>(), zv = z.to_vector<float>(), b = bn->bias.to_vector<float>();
  for (size_t i = 0; i < y.size(); ++i)
    CHECK(y[i] == zv[i] + b[(i / 16) % 6]);
  net->train();
  CHECK_THROWS_WITH_AS(fold_batchnorm(*net), doctest::Contains("training mode"), Error);
}

TEST_CASE("bias correction (dagger): last layer float, its mean output on the batch restored") {
  auto analog = small_net(7);
  auto quantized = copy_of(*analog, 7);
  Generator gen(8);
  const Tensor batch = random_tensor({30, 3, 8, 8}, gen);
  PtqOptions o;
  o.alphabet.bits = 2;
  o.m = 30;
  o.bias_correct = true;
  const PtqResult r = gpfq(
      *analog, *quantized, [&](int64_t) { return batch; }, o);
  CHECK(r.quantized.size() == 2);
  REQUIRE(r.float_layers.size() == 1);
  CHECK(r.float_layers[0] == "7");
  CHECK(max_abs_diff(analog->at<nn::Linear>(7)->weight, quantized->at<nn::Linear>(7)->weight) == 0);
  // b_L <- b_L + W_L (x-bar - x-tilde-bar): the batch mean of the logits is the analog one.
  const Tensor a = mean(forward(*analog, batch), {0}), q = mean(forward(*quantized, batch), {0});
  CHECK(max_abs_diff(a, q) < 1e-4);
}

TEST_CASE("bit plans: float layers stay float, kinds and names resolve, typos are errors") {
  auto analog = small_net(9);
  auto quantized = copy_of(*analog, 9);
  PtqOptions o;
  o.method = PtqMethod::rtn;
  o.plan = BitPlan(nlohmann::json::parse(R"({"default": 3, "kinds": {"Linear": 8}, "layers": {"3": "float"}})"));
  const PtqResult r = rtn(*quantized, o);
  REQUIRE(r.layers.size() == 2);
  CHECK(r.layers[0].precision == "3-bit midtread");
  CHECK(r.layers[1].precision == "8-bit midtread");
  CHECK(r.float_layers == std::vector<std::string>{"3"});
  CHECK(max_abs_diff(analog->at<nn::Conv2d>(3)->weight, quantized->at<nn::Conv2d>(3)->weight) == 0);
  o.plan = BitPlan(nlohmann::json::parse(R"({"layers": {"conv9": 4}})"));
  CHECK_THROWS_WITH_AS(rtn(*quantized, o), doctest::Contains("'conv9'"), Error);
  CHECK_THROWS_WITH_AS(BitPlan(nlohmann::json::parse(R"({"default": 0})")), doctest::Contains("0 bits"), Error);
  CHECK_THROWS_WITH_AS(BitPlan(nlohmann::json::parse(R"({"defaults": 4})")), doctest::Contains("'defaults'"), Error);
}

TEST_CASE("GPFQ: bad input is a clear error") {
  auto analog = small_net(10);
  auto quantized = copy_of(*analog, 10);
  Generator gen(1);
  auto batches = [&](int64_t m) { return random_tensor({m, 3, 8, 8}, gen); };
  PtqOptions o;
  o.m = 0;
  CHECK_THROWS_WITH_AS(gpfq(*analog, *quantized, batches, o), doctest::Contains("m = 0"), Error);
  o.m = 8;
  o.alphabet.bits = 0;
  CHECK_THROWS_WITH_AS(gpfq(*analog, *quantized, batches, o), doctest::Contains("bits = 0"), Error);
  o.alphabet.bits = 4;
  o.alphabet.C = 0;
  CHECK_THROWS_WITH_AS(gpfq(*analog, *quantized, batches, o), doctest::Contains("C = 0"), Error);
  o.alphabet.C = 1;
  CHECK_THROWS_WITH_AS(gpfq(
                           *analog, *quantized,
                           [&](int64_t) {
                             return random_tensor({3, 3, 8, 8}, gen);
                           },
                           o),
                       doctest::Contains("expected 8 images"), Error);
  auto none = std::make_shared<nn::Sequential>(), none2 = std::make_shared<nn::Sequential>();
  none->push_back(std::make_shared<nn::ReLU>());
  none2->push_back(std::make_shared<nn::ReLU>());
  CHECK_THROWS_WITH_AS(gpfq(*none, *none2, batches, o), doctest::Contains("has no Conv2d or Linear"), Error);
}
