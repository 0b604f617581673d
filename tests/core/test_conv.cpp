// conv2d: forward and gradients against PyTorch golden values (tests/tools/gen_conv.py), against a
// direct loop in double over random geometries, gradcheck, and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/check_close.h"
#include "tests/golden.h"
#include "tests/gradcheck.h"

using namespace qnn;
using qnn::testing::gradcheck;
using qnn::testing::GradcheckOptions;
using qnn::testing::leaf;

using qnn::testing::require_close;
using qnn::testing::tensor_of;

namespace {

const nlohmann::json& golden() { return qnn::testing::golden_file("conv.json"); }

std::array<int64_t, 2> pair_of(const nlohmann::json& v) { return {v[0].get<int64_t>(), v[1].get<int64_t>()}; }

// The definition, in double: y[n][m][oh][ow] = b[m] + sum over the group's channels and taps of
// x[n][c][oh * s - p + kh * d][ow * s - p + kw * d] * w[m][c][kh][kw], and its adjoints.
struct Reference {
  std::vector<double> y, dx, dw, db;
};
Reference reference(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& dy, const Conv2dOptions& o) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), M = w.size(0), KH = w.size(2),
                KW = w.size(3), G = o.groups, Cg = C / G, Mg = M / G, OH = dy.size(2), OW = dy.size(3);
  const std::vector<float> xv = x.to_vector<float>(), wv = w.to_vector<float>(), dyv = dy.to_vector<float>();
  const std::vector<float> bv = b.defined() ? b.to_vector<float>() : std::vector<float>(M, 0.0f);
  Reference r{std::vector<double>(N * M * OH * OW), std::vector<double>(xv.size()), std::vector<double>(wv.size()),
              std::vector<double>(M)};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t yi = ((n * M + m) * OH + oh) * OW + ow;
          double acc = bv[m];
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ih = oh * o.stride[0] - o.padding[0] + kh * o.dilation[0];
                const int64_t iw = ow * o.stride[1] - o.padding[1] + kw * o.dilation[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                  continue;
                const int64_t xi = ((n * C + m / Mg * Cg + c) * H + ih) * W + iw,
                              wi = ((m * Cg + c) * KH + kh) * KW + kw;
                acc += static_cast<double>(xv[xi]) * wv[wi];
                r.dx[xi] += static_cast<double>(wv[wi]) * dyv[yi];
                r.dw[wi] += static_cast<double>(xv[xi]) * dyv[yi];
              }
          r.y[yi] = acc;
          r.db[m] += dyv[yi];
        }
  return r;
}

Conv2dOptions options(std::array<int64_t, 2> stride, std::array<int64_t, 2> padding, std::array<int64_t, 2> dilation,
                      int64_t groups) {
  Conv2dOptions o;
  o.stride = stride;
  o.padding = padding;
  o.dilation = dilation;
  o.groups = groups;
  return o;
}

}  // namespace

TEST_CASE("conv2d matches PyTorch: output and gradients of x, weight and bias") {
  for (const auto& item : golden().items()) {
    const std::string name = item.key();
    const nlohmann::json& c = item.value();
    CAPTURE(name);
    const Shape xs = c["x_shape"].get<Shape>(), ws = c["w_shape"].get<Shape>(), ys = c["y_shape"].get<Shape>();
    const bool has_bias = c.contains("b");
    Tensor x = leaf(tensor_of(c["x"], xs)), w = leaf(tensor_of(c["w"], ws));
    Tensor b = has_bias ? leaf(tensor_of(c["b"], {ws[0]})) : Tensor();
    const Conv2dOptions o =
        options(pair_of(c["stride"]), pair_of(c["padding"]), pair_of(c["dilation"]), c["groups"].get<int64_t>());
    Tensor y = conv2d(x, w, b, o);
    REQUIRE(y.shape() == ys);
    // conv.json's references are float64 values: compare with them unrounded.
    auto want = [&](const char* key) { return c[key].get<std::vector<double>>(); };
    require_close(y, want("y"), 1e-4);
    y.backward(tensor_of(c["dy"], ys));
    require_close(x.grad(), want("dx"), 1e-4);
    require_close(w.grad(), want("dw"), 1e-4);
    if (has_bias)
      require_close(b.grad(), want("db"), 1e-4);
  }
}

TEST_CASE("conv2d equals the direct loop in double over random geometries") {
  Generator g(21);
  Generator pick(22);
  auto draw = [&](int64_t lo, int64_t hi) { return randint(lo, hi + 1, {1}, pick).to_vector<int64_t>()[0]; };
  int checked = 0;
  while (checked < 40) {
    const int64_t G = draw(1, 3), C = G * draw(1, 3), M = G * draw(1, 4), KH = draw(1, 3), KW = draw(1, 4);
    const Conv2dOptions o = options({draw(1, 3), draw(1, 2)}, {draw(0, 2), draw(0, 1)}, {draw(1, 2), draw(1, 2)}, G);
    const int64_t H = draw(1, 12), W = draw(1, 40);
    if (H + 2 * o.padding[0] < o.dilation[0] * (KH - 1) + 1 || W + 2 * o.padding[1] < o.dilation[1] * (KW - 1) + 1)
      continue;  // the kernel does not fit: checked by the error test
    CAPTURE(checked);
    Tensor x = leaf(randn({draw(1, 3), C, H, W}, g)), w = leaf(randn({M, C / G, KH, KW}, g));
    Tensor b = draw(0, 1) ? leaf(randn({M}, g)) : Tensor();
    Tensor y = conv2d(x, w, b, o);
    const Tensor dy = randn(y.shape(), g);
    y.backward(dy);
    const Reference r = reference(x, w, b, dy, o);
    require_close(y, r.y, 1e-4);
    require_close(x.grad(), r.dx, 1e-4);
    require_close(w.grad(), r.dw, 1e-4);
    if (b.defined())
      require_close(b.grad(), r.db, 1e-4);
    ++checked;
  }
}

TEST_CASE("conv2d on batches large enough for threads: 3x3 pad 1, strided 3x3 and 1x1 shortcut") {
  Generator g(23);
  for (const auto& [shape, wshape, o] :
       {std::tuple{Shape{8, 16, 16, 16}, Shape{24, 16, 3, 3}, options({1, 1}, {1, 1}, {1, 1}, 1)},
        std::tuple{Shape{8, 16, 16, 16}, Shape{32, 16, 1, 1}, options({2, 2}, {0, 0}, {1, 1}, 1)},
        std::tuple{Shape{6, 64, 7, 7}, Shape{40, 64, 3, 3}, options({1, 1}, {1, 1}, {1, 1}, 1)},
        // A weight of 64 x 2304 per group: the blocked path (chunks of images, blocks of K and M).
        std::tuple{Shape{3, 256, 5, 6}, Shape{64, 256, 3, 3}, options({1, 1}, {1, 1}, {1, 1}, 1)},
        // Stride 2 over rows of 18 outputs: the vector stride-2 gathers and scatters, and a tail.
        std::tuple{Shape{4, 8, 34, 36}, Shape{8, 8, 3, 3}, options({2, 2}, {1, 1}, {1, 1}, 1)}}) {
    CAPTURE(shape_str(wshape));
    Tensor x = leaf(randn(shape, g)), w = leaf(mul(randn(wshape, g), 0.2f)), b = leaf(randn({wshape[0]}, g));
    Tensor y = conv2d(x, w, b, o);
    const Tensor dy = randn(y.shape(), g);
    y.backward(dy);
    const Reference r = reference(x, w, b, dy, o);
    require_close(y, r.y, 1e-4);
    require_close(x.grad(), r.dx, 1e-4);
    require_close(w.grad(), r.dw, 1e-4);
    require_close(b.grad(), r.db, 1e-4);
  }
}

TEST_CASE("conv2d output and input gradient do not depend on the thread count") {
  Generator g(24);
  Tensor x = leaf(randn({6, 8, 12, 12}, g));
  const Tensor w = randn({16, 8, 3, 3}, g), dy = randn({6, 16, 12, 12}, g);
  const int before = num_threads();
  std::vector<std::vector<float>> ys, dxs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    x.zero_grad();
    Tensor y = conv2d(x, w, Tensor(), options({1, 1}, {1, 1}, {1, 1}, 1));
    y.backward(dy);
    ys.push_back(y.to_vector<float>());
    dxs.push_back(x.grad().to_vector<float>());
  }
  set_num_threads(before);
  CHECK(ys[0] == ys[1]);
  CHECK(dxs[0] == dxs[1]);
}

TEST_CASE("gradcheck: conv2d w.r.t. x, weight and bias") {
  Generator g(25);
  GradcheckOptions opt;
  opt.eps = 5e-3;
  struct Case {
    Shape x, w;
    Conv2dOptions o;
  };
  const std::vector<Case> cases = {
      {{2, 3, 5, 4}, {4, 3, 3, 3}, options({1, 1}, {1, 1}, {1, 1}, 1)},
      {{1, 4, 7, 6}, {4, 2, 3, 2}, options({2, 1}, {1, 0}, {1, 2}, 2)},   // stride, groups, dilation
      {{2, 3, 5, 5}, {3, 1, 3, 3}, options({1, 1}, {2, 2}, {2, 2}, 3)},   // depthwise, dilated
      {{1, 2, 6, 7}, {3, 2, 1, 1}, options({2, 3}, {0, 0}, {1, 1}, 1)}};  // strided 1x1 (col2im path)
  for (const Case& c : cases) {
    CAPTURE(shape_str(c.w));
    Tensor x = leaf(randn(c.x, g)), w = leaf(mul(randn(c.w, g), 0.5f)), b = leaf(randn({c.w[0]}, g));
    const Conv2dOptions o = c.o;
    CHECK(gradcheck([o](auto& v) { return conv2d(v[0], v[1], v[2], o); }, {x, w, b}, opt));
  }
  // A non-contiguous input (a transposed view), and no bias.
  Tensor xt = leaf(randn({2, 3, 6, 5}, g)), w = leaf(randn({2, 3, 3, 3}, g));
  CHECK(gradcheck(
      [](auto& v) {
        return conv2d(v[0].transpose(2, 3), v[1], Tensor(), options({1, 1}, {1, 1}, {1, 1}, 1));
      },
      {xt, w}, opt));
}

TEST_CASE("conv2d: unbatched input, gradients only where asked, no bias") {
  Generator g(26);
  const Tensor x = randn({3, 6, 5}, g), w = randn({2, 3, 3, 3}, g);
  const Conv2dOptions o = options({1, 1}, {1, 1}, {1, 1}, 1);
  const Tensor y = conv2d(x, w, Tensor(), o);
  CHECK(y.shape() == Shape{2, 6, 5});
  CHECK(y.to_vector<float>() == conv2d(x.unsqueeze(0), w, Tensor(), o).squeeze(0).to_vector<float>());

  Tensor xw = leaf(randn({2, 3, 4, 4}, g));
  conv2d(xw, w, Tensor(), o).backward(ones({2, 2, 4, 4}));  // only x requires grad
  CHECK(xw.grad().defined());
  Tensor wl = leaf(w);
  conv2d(x.unsqueeze(0), wl, Tensor(), o).backward(ones({1, 2, 6, 5}));  // only the weight
  CHECK(wl.grad().shape() == w.shape());
}

TEST_CASE("conv2d input errors") {
  const Tensor x = zeros({2, 4, 5, 5}), w = zeros({6, 4, 3, 3});
  const Conv2dOptions o;
  CHECK_THROWS_AS(conv2d(zeros({4, 5}), w, Tensor(), o), qnn::Error);                        // wrong dims
  CHECK_THROWS_AS(conv2d(zeros({1, 2, 4, 5, 5}), w, Tensor(), o), qnn::Error);               // wrong dims
  CHECK_THROWS_AS(conv2d(x, zeros({6, 4, 3}), Tensor(), o), qnn::Error);                     // weight dims
  CHECK_THROWS_AS(conv2d(x, zeros({6, 3, 3, 3}), Tensor(), o), qnn::Error);                  // wrong channels
  CHECK_THROWS_AS(conv2d(x, w, zeros({5}), o), qnn::Error);                                  // bias shape
  CHECK_THROWS_AS(conv2d(x, zeros({6, 4, 6, 3}), Tensor(), o), qnn::Error);                  // kernel too large
  CHECK_THROWS_AS(conv2d(x, w, Tensor(), options({1, 1}, {0, 0}, {3, 3}, 1)), qnn::Error);   // dilated too large
  CHECK_THROWS_AS(conv2d(x, w, Tensor(), options({0, 1}, {0, 0}, {1, 1}, 1)), qnn::Error);   // stride
  CHECK_THROWS_AS(conv2d(x, w, Tensor(), options({1, 1}, {-1, 0}, {1, 1}, 1)), qnn::Error);  // padding
  CHECK_THROWS_AS(conv2d(x, w, Tensor(), options({1, 1}, {0, 0}, {0, 1}, 1)), qnn::Error);   // dilation
  CHECK_THROWS_AS(conv2d(x, zeros({6, 1, 3, 3}), Tensor(), options({1, 1}, {0, 0}, {1, 1}, 3)),
                  qnn::Error);  // groups do not divide the channels
  CHECK_THROWS_AS(conv2d(x, w, Tensor(), options({1, 1}, {0, 0}, {1, 1}, 0)), qnn::Error);  // groups
  CHECK_THROWS_AS(conv2d(x.to(DType::Int64), w, Tensor(), o), qnn::Error);                  // dtype
  try {
    conv2d(x, zeros({6, 3, 3, 3}), Tensor(), o);
  } catch (const qnn::Error& e) {
    CHECK(std::string(e.what()).find("conv2d") != std::string::npos);
  }
}
