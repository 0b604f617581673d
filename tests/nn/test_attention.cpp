// Transformer layers: MultiheadSelfAttention (and scaled_dot_product_attention), Mlp, PatchEmbed
// and DropPath. Forward values against naive loops in double written here (over batch, heads and
// positions), gradients of input and every parameter with gradcheck on tiny sizes.
#include <doctest/doctest.h>

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

using Vec = std::vector<double>;

Vec values(const Tensor& t) {
  const std::vector<float> v = t.contiguous().to_vector<float>();
  return Vec(v.begin(), v.end());
}

// y[r, o] = b[o] + sum_i W[o, i] x[r, i] over rows r of x [rows, in].
Vec linear_ref(const Vec& x, int64_t rows, int64_t in, const Vec& W, const Vec& b, int64_t out) {
  Vec y(rows * out);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.empty() ? 0.0 : b[o];
      for (int64_t i = 0; i < in; ++i)
        acc += W[o * in + i] * x[r * in + i];
      y[r * out + o] = acc;
    }
  return y;
}

// Self-attention by its definition, one (batch, head, query position) at a time: with
// q_n, k_m, v_m the head's slices of qkv(x) at positions n, m,
//   a_nm = exp(s_nm) / sum_m' exp(s_nm'), s_nm = <q_n, k_m> / sqrt(d),  out_n = sum_m a_nm v_m,
// heads concatenated in order, then proj.
Vec attention_ref(const Vec& x, int64_t B, int64_t N, int64_t C, int64_t H, const MultiheadSelfAttention& m) {
  const int64_t d = C / H;
  const Vec qkv =
      linear_ref(x, B * N, C, values(m.qkv->weight), m.qkv->bias.defined() ? values(m.qkv->bias) : Vec{}, 3 * C);
  // qkv row (b, n): [q (C) | k (C) | v (C)], each C split into H heads of d.
  auto at = [&](int64_t b, int64_t n, int64_t which, int64_t h, int64_t j) {
    return qkv[(b * N + n) * 3 * C + which * C + h * d + j];
  };
  Vec heads(B * N * C);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < N; ++n) {
        Vec s(N);
        double smax = -1e300;
        for (int64_t mm = 0; mm < N; ++mm) {
          double dot = 0;
          for (int64_t j = 0; j < d; ++j)
            dot += at(b, n, 0, h, j) * at(b, mm, 1, h, j);
          s[mm] = dot / std::sqrt(static_cast<double>(d));
          smax = std::max(smax, s[mm]);
        }
        double z = 0;
        for (double& v : s)
          z += (v = std::exp(v - smax));
        for (int64_t j = 0; j < d; ++j) {
          double acc = 0;
          for (int64_t mm = 0; mm < N; ++mm)
            acc += s[mm] / z * at(b, mm, 2, h, j);
          heads[(b * N + n) * C + h * d + j] = acc;
        }
      }
  return linear_ref(heads, B * N, C, values(m.proj->weight), values(m.proj->bias), C);
}

}  // namespace

TEST_SUITE("nn.attention") {
  TEST_CASE("MultiheadSelfAttention equals softmax(q k^T / sqrt(d)) v per head, computed in double") {
    Generator gen(101);
    for (const auto& [C, H, bias] : {std::tuple<int64_t, int64_t, bool>{6, 2, true}, {12, 3, false}, {8, 1, true}}) {
      CAPTURE(C);
      CAPTURE(H);
      MultiheadSelfAttention attn(C, H, {.qkv_bias = bias}, gen);
      CHECK(attn.head_dim == C / H);
      CHECK(attn.scale == doctest::Approx(1.0 / std::sqrt(static_cast<double>(C / H))));
      CHECK(attn.qkv->bias.defined() == bias);
      // Spread the logits so the softmax is far from uniform.
      const Tensor x = mul(randn({2, 5, C}, gen), 2.0f);
      const Tensor y = attn.forward(x);
      REQUIRE(y.shape() == Shape{2, 5, C});
      check_close(y, attention_ref(values(x), 2, 5, C, H, attn), 1e-5);
    }
  }

  TEST_CASE("state keys are timm's: qkv.weight, qkv.bias, proj.weight, proj.bias") {
    MultiheadSelfAttention attn(8, 2, {.qkv_bias = true});
    const StateDict sd = attn.state_dict();
    REQUIRE(sd.size() == 4);
    CHECK(sd[0].first == "qkv.weight");
    CHECK(sd[0].second.shape() == Shape{24, 8});
    CHECK(sd[1].first == "qkv.bias");
    CHECK(sd[2].first == "proj.weight");
    CHECK(sd[2].second.shape() == Shape{8, 8});
    CHECK(sd[3].first == "proj.bias");
    CHECK(MultiheadSelfAttention(8, 2).state_dict().size() == 3);  // timm's default: no qkv bias
  }

  TEST_CASE("scaled_dot_product_attention: a query matching one key picks its value; errors") {
    // One head, d = 2: keys e1, e2 with a large scale make the softmax nearly one-hot.
    const Tensor k = from_vector<float>({1, 0, 0, 1}, {1, 1, 2, 2});
    const Tensor v = from_vector<float>({3, 4, -5, 6}, {1, 1, 2, 2});
    const Tensor q = from_vector<float>({1, 0, 0, 1}, {1, 1, 2, 2});
    const Tensor out = scaled_dot_product_attention(q, k, v, 50.0f);
    check_close(out, {3, 4, -5, 6}, 1e-6);
    // scale 0: uniform weights, every row the mean of the values.
    check_close(scaled_dot_product_attention(q, k, v, 0.0f), {-1, 5, -1, 5}, 1e-6);
    CHECK_THROWS_AS(scaled_dot_product_attention(q.squeeze(0), k, v, 1.0f), Error);
    CHECK_THROWS_AS(scaled_dot_product_attention(q, k.narrow(2, 0, 1), v, 1.0f), Error);
  }

  TEST_CASE("attention gradients: input, qkv and proj weights and biases") {
    Generator gen(102);
    MultiheadSelfAttention attn(4, 2, {.qkv_bias = true}, gen);
    CHECK(module_gradcheck(attn, randn({2, 3, 4}, gen)));
  }

  TEST_CASE("attention dropout: identity in eval, seeded masks in training") {
    Generator gen(103), g1(7), g2(7);
    MultiheadSelfAttention plain(6, 2, {.qkv_bias = true}, gen);
    MultiheadSelfAttention a(6, 2, {.qkv_bias = true, .attn_drop = 0.5f, .proj_drop = 0.25f}, g1);
    MultiheadSelfAttention b(6, 2, {.qkv_bias = true, .attn_drop = 0.5f, .proj_drop = 0.25f}, g2);
    a.load_state_dict(plain.state_dict());
    b.load_state_dict(plain.state_dict());
    const Tensor x = randn({2, 4, 6}, gen);
    const std::vector<float> ya = a.forward(x).to_vector<float>();
    CHECK(ya == b.forward(x).to_vector<float>());  // same seed, same masks
    CHECK(ya != plain.forward(x).to_vector<float>());
    CHECK(ya != a.forward(x).to_vector<float>());  // a fresh draw each call
    a.eval();
    CHECK(a.forward(x).to_vector<float>() == plain.forward(x).to_vector<float>());
  }

  TEST_CASE("attention input checks") {
    CHECK_THROWS_AS(MultiheadSelfAttention(6, 4), Error);
    MultiheadSelfAttention attn(6, 2);
    CHECK_THROWS_WITH_AS(attn.forward(zeros({2, 6})), "MultiheadSelfAttention: got input [2, 6] (expected [B, N, 6])",
                         Error);
    CHECK_THROWS_AS(attn.forward(zeros({1, 3, 5})), Error);
  }

  TEST_CASE("Mlp: fc2(gelu(fc1(x))) in double; keys fc1/fc2; gradients") {
    Generator gen(104);
    Mlp mlp(3, 5, 0, 0.0f, gen);
    const StateDict sd = mlp.state_dict();
    REQUIRE(sd.size() == 4);
    CHECK(sd[0].first == "fc1.weight");
    CHECK(sd[0].second.shape() == Shape{5, 3});
    CHECK(sd[2].first == "fc2.weight");
    CHECK(sd[2].second.shape() == Shape{3, 5});
    const Tensor x = randn({2, 4, 3}, gen);
    Vec h = linear_ref(values(x), 8, 3, values(mlp.fc1->weight), values(mlp.fc1->bias), 5);
    for (double& v : h)
      v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));  // exact GELU: x Phi(x)
    check_close(mlp.forward(x), linear_ref(h, 8, 5, values(mlp.fc2->weight), values(mlp.fc2->bias), 3), 1e-5);
    CHECK(Mlp(3, 5, 2).forward(x).shape() == Shape{2, 4, 2});
    CHECK(module_gradcheck(mlp, randn({2, 3}, gen)));
  }

  TEST_CASE("PatchEmbed: kernel = stride = patch conv, grid flattened row-major to [B, N, D]") {
    Generator gen(105);
    const int64_t P = 2, C = 2, D = 3, S = 4, G = S / P;
    PatchEmbed pe(S, P, C, D, gen);
    CHECK(pe.num_patches == G * G);
    CHECK(pe.state_dict()[0].first == "proj.weight");
    CHECK(pe.state_dict()[0].second.shape() == Shape{D, C, P, P});
    CHECK(pe.state_dict()[1].first == "proj.bias");
    const Tensor x = randn({2, C, S, S}, gen);
    const Vec xv = values(x), w = values(pe.proj->weight), bv = values(pe.proj->bias);
    Vec want(2 * G * G * D);
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t i = 0; i < G; ++i)
        for (int64_t j = 0; j < G; ++j)
          for (int64_t d = 0; d < D; ++d) {
            double acc = bv[d];
            for (int64_t c = 0; c < C; ++c)
              for (int64_t u = 0; u < P; ++u)
                for (int64_t v = 0; v < P; ++v)
                  acc += w[((d * C + c) * P + u) * P + v] * xv[((b * C + c) * S + i * P + u) * S + j * P + v];
            want[((b * G * G) + i * G + j) * D + d] = acc;  // token n = i * G + j
          }
    const Tensor y = pe.forward(x);
    REQUIRE(y.shape() == Shape{2, G * G, D});
    check_close(y, want, 1e-5);
    CHECK(module_gradcheck(pe, randn({1, C, S, S}, gen)));
    CHECK_THROWS_WITH_AS(pe.forward(zeros({1, C, 6, 6})), "PatchEmbed: got input [1, 2, 6, 6] (expected [B, 2, 4, 4])",
                         Error);
    CHECK_THROWS_AS(PatchEmbed(30, 4, 3, 8), Error);
  }

  TEST_CASE("DropPath: per-sample keep or drop, scaled by 1 / (1 - p); identity in eval") {
    Generator gx(8), g1(9), g2(9);
    DropPath dp(0.5f, g1), same(0.5f, g2);
    const Tensor x = add(rand({64, 3, 2}, gx), 1.0f);  // all > 0: a dropped sample is all zeros
    const Tensor y = dp.forward(x);
    CHECK(y.to_vector<float>() == same.forward(x).to_vector<float>());
    const std::vector<float> xv = x.to_vector<float>(), yv = y.to_vector<float>();
    int kept = 0;
    for (int64_t b = 0; b < 64; ++b) {
      const bool keep = yv[b * 6] != 0.0f;
      kept += keep;
      for (int64_t i = 0; i < 6; ++i)
        CHECK(yv[b * 6 + i] == (keep ? xv[b * 6 + i] * 2.0f : 0.0f));
    }
    CHECK(kept > 16);
    CHECK(kept < 48);
    // The gradient is the same mask.
    const Tensor xl = qnn::testing::leaf(x);
    Generator g3(5), g4(5);
    DropPath d3(0.5f, g3), d4(0.5f, g4);
    sum(d3.forward(xl)).backward();
    CHECK(xl.grad().to_vector<float>() == d4.forward(ones({64, 3, 2})).to_vector<float>());
    dp.eval();
    CHECK(dp.forward(x).to_vector<float>() == xv);
    CHECK(DropPath(0.0f).forward(x).to_vector<float>() == xv);
    CHECK_THROWS_AS(DropPath(1.0f), Error);
  }
}
