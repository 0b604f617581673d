// Conv2d and the pooling modules: forward against hand loops in double, gradients of input and
// parameters through the module (module_gradcheck.h), shape errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops.h"
#include "nn/nn.h"
#include "tests/check_close.h"
#include "tests/nn/module_gradcheck.h"

using namespace qnn;
using namespace qnn::nn;
using qnn::testing::check_close;
using qnn::testing::module_gradcheck;

namespace {

// Direct convolution in double: x [N, C, H, W], w [O, C / g, k, k].
std::vector<double> conv_reference(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dArgs& a) {
  const std::vector<float> xv = x.to_vector<float>(), wv = w.to_vector<float>();
  const std::vector<float> bv = b.defined() ? b.to_vector<float>() : std::vector<float>();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0), k = w.size(2);
  const int64_t cg = C / a.groups, og = O / a.groups;
  const int64_t Ho = (H + 2 * a.padding - a.dilation * (k - 1) - 1) / a.stride + 1;
  const int64_t Wo = (W + 2 * a.padding - a.dilation * (k - 1) - 1) / a.stride + 1;
  std::vector<double> y(N * O * Ho * Wo);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < Ho; ++i)
        for (int64_t j = 0; j < Wo; ++j) {
          double acc = bv.empty() ? 0.0 : bv[o];
          const int64_t g = o / og;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t p = 0; p < k; ++p)
              for (int64_t q = 0; q < k; ++q) {
                const int64_t h = i * a.stride - a.padding + p * a.dilation;
                const int64_t v = j * a.stride - a.padding + q * a.dilation;
                if (h < 0 || h >= H || v < 0 || v >= W)
                  continue;
                acc += static_cast<double>(xv[((n * C + g * cg + c) * H + h) * W + v]) *
                       wv[((o * cg + c) * k + p) * k + q];
              }
          y[((n * O + o) * Ho + i) * Wo + j] = acc;
        }
  return y;
}

}  // namespace

TEST_SUITE("nn.conv_pool") {
  TEST_CASE("Conv2d matches a direct convolution") {
    Generator gen(21);
    for (const Conv2dArgs args : {Conv2dArgs{}, Conv2dArgs{.stride = 2, .padding = 1},
                                  Conv2dArgs{.padding = 2, .dilation = 2, .groups = 2, .bias = false}}) {
      CAPTURE(args.stride);
      CAPTURE(args.groups);
      Conv2d conv(4, 6, 3, args, gen);
      CHECK(conv.weight.shape() == Shape{6, 4 / args.groups, 3, 3});
      CHECK(conv.bias.defined() == args.bias);
      const Tensor x = randn({2, 4, 7, 6}, gen);
      const Tensor y = conv.forward(x);
      check_close(y, conv_reference(x, conv.weight, conv.bias, args), 1e-4);
    }
    Conv2d conv(3, 4, 3);
    CHECK_THROWS_WITH_AS(conv.forward(zeros({1, 2, 5, 5})), "Conv2d: got input [1, 2, 5, 5] (expected [N, 3, H, W])",
                         Error);
    CHECK_THROWS_AS(Conv2d(3, 4, 3, {.groups = 2}), Error);
  }

  TEST_CASE("Conv2d gradients: input, weight, bias") {
    Generator gen(22);
    Conv2d conv(2, 3, 3, {.stride = 2, .padding = 1}, gen);
    CHECK(module_gradcheck(conv, randn({2, 2, 5, 5}, gen)));
    Conv2d grouped(4, 2, 1, {.groups = 2, .bias = false}, gen);
    CHECK(module_gradcheck(grouped, randn({1, 4, 3, 3}, gen)));
  }

  TEST_CASE("MaxPool2d, AvgPool2d, AdaptiveAvgPool2d by hand") {
    std::vector<float> v(16);
    for (int i = 0; i < 16; ++i)
      v[i] = static_cast<float>((i * 7) % 16);  // a permutation of 0..15: no ties
    const Tensor x = from_vector<float>(v, {1, 1, 4, 4});
    std::vector<double> mx, av;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        double m = -1, s = 0;
        for (int p = 0; p < 2; ++p)
          for (int q = 0; q < 2; ++q) {
            const float e = v[(2 * i + p) * 4 + 2 * j + q];
            m = std::max<double>(m, e);
            s += e;
          }
        mx.push_back(m);
        av.push_back(s / 4);
      }
    check_close(MaxPool2d(2).forward(x), mx, 1e-4);
    check_close(AvgPool2d(2).forward(x), av, 1e-4);
    check_close(AdaptiveAvgPool2d(2).forward(x), av, 1e-4);
    check_close(AdaptiveAvgPool2d(1).forward(x), {7.5}, 1e-4);
    CHECK(MaxPool2d(3, 2, 1).forward(zeros({2, 3, 8, 8})).shape() == Shape{2, 3, 4, 4});
    CHECK_THROWS_WITH_AS(MaxPool2d(2).forward(zeros({4, 4})), "MaxPool2d: got input [4, 4] (expected [N, C, H, W])",
                         Error);
    CHECK(MaxPool2d(3, 2, 1).repr() == "MaxPool2d(kernel_size=3, stride=2, padding=1)");
  }

  TEST_CASE("pooling gradients") {
    Generator gen(23);
    MaxPool2d mp(2);
    AvgPool2d ap(3, 2, 1);
    AdaptiveAvgPool2d aap({2, 3});
    // Distinct values 0.1 apart: no finite-difference step (1e-2) changes which element is the max.
    std::vector<float> v(64);
    for (int i = 0; i < 64; ++i)
      v[i] = 0.1f * static_cast<float>((i * 37) % 64);
    CHECK(module_gradcheck(mp, from_vector<float>(v, {2, 2, 4, 4})));
    CHECK(module_gradcheck(ap, randn({2, 2, 5, 5}, gen)));
    CHECK(module_gradcheck(aap, randn({1, 2, 5, 7}, gen)));
  }
}
