// Vision Transformer / DeiT: the transformer Block against its composition and by gradcheck;
// names, shapes and parameter counts against timm's definitions (tests/tools/gen_vit.py writes
// them out in torch); golden logits and gradients of a tiny ViT (plain and distilled) with
// closed-form weights; initialization, stochastic depth, the registry.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/nn.h"
#include "tests/check_close.h"
#include "tests/golden.h"
#include "tests/nn/module_gradcheck.h"

using namespace qnn;
using namespace qnn::nn;
using qnn::testing::check_close;
using qnn::testing::module_gradcheck;

namespace {

const nlohmann::json& golden() { return qnn::testing::golden_file("vit.json"); }

// gen_vit.py's formula(): entry k of the state_dict.
Tensor formula_value(const std::string& name, size_t k, const Shape& shape) {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const int64_t numel = numel_of(shape);
  std::vector<float> v(numel);
  for (int64_t i = 0; i < numel; ++i) {
    const double s = std::sin(0.37 * static_cast<double>(i) + 1.1 * static_cast<double>(k) + 0.5);
    double value;
    if (name == "cls_token" || name == "dist_token" || name == "pos_embed")
      value = 0.5 * s;
    else if (ends_with("bias"))
      value = 0.1 * s;
    else if (shape.size() == 1)
      value = 1.0 + 0.2 * s;
    else
      value = s / std::sqrt(static_cast<double>(numel / shape[0]));
    v[i] = static_cast<float>(value);
  }
  return from_vector<float>(v, shape);
}

// gen_vit.py's TINY: 8x8 images, 4x4 patches (4 tokens), D 8, depth 2, 2 heads, 5 classes.
VitConfig tiny_config(bool distilled) {
  VitConfig c;
  c.img_size = 8;
  c.patch_size = 4;
  c.num_classes = 5;
  c.embed_dim = 8;
  c.depth = 2;
  c.num_heads = 2;
  c.distilled = distilled;
  return c;
}

double std_of(const Tensor& t) {
  double s2 = 0;
  const std::vector<float> v = t.to_vector<float>();
  for (float x : v)
    s2 += static_cast<double>(x) * x;
  return std::sqrt(s2 / static_cast<double>(v.size()));
}

// Every count is checked against timm's definition in gen_vit.py too. Building a model costs
// ~50-70 ns per parameter (initialization draws, one thread), so deit_base (86.6M, ~5 s) has a
// test case of its own and the distilled small/base variants (22.4M, 87.3M) are not built:
// their extra tensors are those of deit_tiny_distilled at another width.
void check_against_timm(const std::string& name, int64_t count) {
  CAPTURE(name);
  const nlohmann::json& ref = golden()["models"][name];
  CHECK(ref["num_parameters"].get<int64_t>() == count);
  if (name == "deit_small_distilled" || name == "deit_base_distilled")
    return;
  ModelOptions opt;
  opt.num_classes = name == "vit_cifar" ? 10 : 1000;
  auto model = make_model(name, opt);
  CHECK(model->num_parameters() == count);
  const StateDict sd = model->state_dict();
  REQUIRE(sd.size() == ref["state"].size());
  for (size_t i = 0; i < sd.size(); ++i) {
    CHECK(sd[i].first == ref["state"][i][0].get<std::string>());
    CHECK(sd[i].second.shape() == ref["state"][i][1].get<Shape>());
  }
}

}  // namespace

TEST_SUITE("nn.vit") {
  TEST_CASE("Block is x + attn(norm1(x)), then + mlp(norm2(.)); timm's keys") {
    Generator gen(201);
    TransformerBlock block(6, 2, {.mlp_ratio = 2.0}, gen);
    std::vector<std::string> names;
    for (const auto& [name, t] : block.state_dict())
      names.push_back(name);
    CHECK(names == std::vector<std::string>{"norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                                            "attn.proj.weight", "attn.proj.bias", "norm2.weight", "norm2.bias",
                                            "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"});
    CHECK(block.mlp->fc1->out_features == 12);
    CHECK(block.norm1->eps == 1e-6f);
    {
      NoGradGuard no_grad;
      copy_(block.norm1->weight, add(randn({6}, gen), 1.0f));
      copy_(block.norm2->bias, randn({6}, gen));
    }
    const Tensor x = randn({2, 3, 6}, gen);
    const Tensor h = add(x, block.attn->forward(layer_norm(x, {6}, block.norm1->weight, block.norm1->bias, 1e-6f)));
    const Tensor want = add(h, block.mlp->forward(layer_norm(h, {6}, block.norm2->weight, block.norm2->bias, 1e-6f)));
    CHECK(block.forward(x).to_vector<float>() == want.to_vector<float>());
  }

  TEST_CASE("Block gradients: input and all twelve parameters") {
    Generator gen(202);
    TransformerBlock block(4, 2, {.mlp_ratio = 2.0}, gen);
    {
      // Non-trivial LayerNorm affine parameters, so their gradients are not the trivial ones.
      NoGradGuard no_grad;
      copy_(block.norm1->weight, add(mul(randn({4}, gen), 0.3f), 1.0f));
      copy_(block.norm2->bias, mul(randn({4}, gen), 0.3f));
    }
    CHECK(module_gradcheck(block, randn({2, 3, 4}, gen)));
  }

  TEST_CASE("Block drop-path: seeded per-sample branch drops in training, none in eval") {
    Generator gen(203), g1(11), g2(11);
    TransformerBlock plain(4, 2, {}, gen);
    TransformerBlock a(4, 2, {.drop_path = 0.5f}, g1), b(4, 2, {.drop_path = 0.5f}, g2);
    a.load_state_dict(plain.state_dict());
    b.load_state_dict(plain.state_dict());
    const Tensor x = randn({16, 3, 4}, gen);
    const std::vector<float> ya = a.forward(x).to_vector<float>();
    CHECK(ya == b.forward(x).to_vector<float>());
    CHECK(ya != plain.forward(x).to_vector<float>());
    a.eval();
    CHECK(a.forward(x).to_vector<float>() == plain.forward(x).to_vector<float>());
  }

  TEST_CASE("tiny ViT matches the torch reimplementation of timm: logits and gradients") {
    for (const bool distilled : {false, true}) {
      CAPTURE(distilled);
      const nlohmann::json& g = golden()[distilled ? "tiny_distilled" : "tiny"];
      VisionTransformer model(tiny_config(distilled));
      StateDict state;
      size_t k = 0;
      const std::vector<std::string> names = g["names"].get<std::vector<std::string>>();
      REQUIRE(model.state_dict().size() == names.size());
      for (const auto& [name, t] : model.state_dict()) {
        REQUIRE(names[k] == name);
        state.emplace_back(name, formula_value(name, k++, t.shape()));
      }
      model.load_state_dict(state);
      std::vector<float> xv(2 * 3 * 8 * 8), rv(10);
      for (size_t i = 0; i < xv.size(); ++i)
        xv[i] = static_cast<float>(std::sin(0.731 * static_cast<double>(i)) +
                                   0.5 * std::cos(0.117 * static_cast<double>(i)));
      for (size_t j = 0; j < rv.size(); ++j)
        rv[j] = static_cast<float>(std::cos(0.9 * static_cast<double>(j)));
      const Tensor x = qnn::testing::leaf(from_vector<float>(xv, {2, 3, 8, 8}));
      const Tensor r = from_vector<float>(rv, {2, 5});
      model.eval();
      const Tensor y = model.forward(x);
      check_close(y, g["logits"], 1e-5);
      sum(mul(y, r)).backward();
      check_close(x.grad(), g["grad_input"], 1e-5);
      for (const auto& [name, p] : model.named_parameters()) {
        if (!g.contains("grad " + name))
          continue;
        CAPTURE(name);
        check_close(p.grad(), g["grad " + name], 1e-5);
      }
      if (distilled) {
        auto [logits, logits_dist] = model.forward_heads(x);
        check_close(div(add(logits, logits_dist), 2.0f), g["logits"], 1e-5);
        // Training mode averages the heads too (timm's default, distilled_training off).
        model.train();
        check_close(model.forward(x), g["logits"], 1e-5);
      } else {
        CHECK_FALSE(model.forward_heads(x).second.defined());
      }
    }
  }

  TEST_CASE("DeiT and vit_cifar: timm's names, shapes, order and parameter counts") {
    const std::vector<std::pair<std::string, int64_t>> counts = {
        {"deit_tiny", 5717416},
        {"deit_small", 22050664},
        {"deit_tiny_distilled", 5910800},
        {"deit_small_distilled", 22436432},
        {"deit_base_distilled", 87338192},
        {"vit_cifar", 2693578},
    };
    for (const auto& [name, count] : counts)
      check_against_timm(name, count);
  }

  TEST_CASE("deit_base: timm's names, shapes, order and 86,567,656 parameters") {
    check_against_timm("deit_base", 86567656);
  }

  TEST_CASE("deit_tiny at 224x224: [1, 1000] logits, cls token read by the head") {
    Generator gen(204);
    ModelOptions opt;
    opt.num_classes = 1000;
    opt.gen = &gen;
    auto model = std::dynamic_pointer_cast<VisionTransformer>(make_model("deit_tiny", opt));
    REQUIRE(model);
    model->eval();
    NoGradGuard no_grad;
    const auto start = std::chrono::steady_clock::now();
    const Tensor y = model->forward(randn({1, 3, 224, 224}, gen));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("deit_tiny forward at 224x224, batch 1: " << seconds * 1e3 << " ms");
    CHECK(y.shape() == Shape{1, 1000});
    const Tensor f = model->forward_features(randn({2, 3, 224, 224}, gen));
    CHECK(f.shape() == Shape{2, 197, 192});
  }

  TEST_CASE("vit_cifar: [N, 10] logits for 32x32 input; backward reaches every parameter") {
    Generator gen(205);
    ModelOptions opt;
    opt.gen = &gen;
    auto model = std::dynamic_pointer_cast<VisionTransformer>(make_model("vit_cifar", opt));
    REQUIRE(model);
    CHECK(model->patch_embed->num_patches == 64);
    CHECK(model->pos_embed.shape() == Shape{1, 65, 192});
    const Tensor y = model->forward(randn({2, 3, 32, 32}, gen));
    CHECK(y.shape() == Shape{2, 10});
    sum(y).backward();
    for (const auto& [name, p] : model->named_parameters()) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      CHECK(p.grad().shape() == p.shape());
    }
    CHECK_THROWS_WITH_AS(model->forward(zeros({1, 3, 28, 28})),
                         "PatchEmbed: got input [1, 3, 28, 28] (expected [B, 3, 32, 32])", Error);
  }

  TEST_CASE("initialization: trunc_normal(0.02) tokens and Linear weights, zero biases, unit LayerNorms; seeded") {
    Generator g1(206), g2(206);
    VitConfig c = tiny_config(true);
    c.embed_dim = 64;
    c.img_size = 32;
    VisionTransformer a(c, g1), b(c, g2);
    const StateDict sa = a.state_dict(), sb = b.state_dict();
    for (size_t i = 0; i < sa.size(); ++i)
      CHECK(sa[i].second.to_vector<float>() == sb[i].second.to_vector<float>());
    // pos_embed: 18 x 64 draws; blocks.0.mlp.fc1.weight: 256 x 64 draws.
    CHECK(std_of(a.pos_embed) == doctest::Approx(0.02).epsilon(0.05));
    auto block0 = a.blocks->at<TransformerBlock>(0);
    CHECK(std_of(block0->mlp->fc1->weight) == doctest::Approx(0.02).epsilon(0.02));
    CHECK(std_of(a.head_dist->weight) == doctest::Approx(0.02).epsilon(0.1));
    for (const Tensor& t : {block0->attn->qkv->bias, block0->attn->proj->bias, a.head->bias, a.head_dist->bias,
                            block0->norm1->bias, a.norm->bias})
      CHECK(std_of(t) == 0.0);
    for (const Tensor& t : {block0->norm2->weight, a.norm->weight})
      CHECK(t.to_vector<float>() == std::vector<float>(64, 1.0f));
    CHECK(a.norm->eps == 1e-6f);
    CHECK(std_of(a.cls_token) > 0.0);
    CHECK(std_of(a.dist_token) > 0.0);
    // PatchEmbed keeps Conv2d's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 3 * 4 * 4.
    for (float w : a.patch_embed->proj->weight.to_vector<float>())
      CHECK(std::abs(w) <= 1.0f / std::sqrt(48.0f));
  }

  TEST_CASE("stochastic depth rises linearly over the blocks; dropout rates reach their layers") {
    VitConfig c = tiny_config(false);
    c.depth = 5;
    c.drop_path_rate = 0.2f;
    c.drop_rate = 0.1f;
    c.attn_drop_rate = 0.05f;
    VisionTransformer model(c);
    for (int64_t i = 0; i < 5; ++i) {
      auto block = model.blocks->at<TransformerBlock>(i);
      CHECK(block->drop_path1->p == doctest::Approx(0.05 * static_cast<double>(i)));
      CHECK(block->drop_path2->p == block->drop_path1->p);
      CHECK(block->attn->attn_drop->p == 0.05f);
      CHECK(block->attn->proj_drop->p == 0.1f);
      CHECK(block->mlp->drop1->p == 0.1f);
    }
    CHECK(model.pos_drop->p == 0.1f);
    // Training mode is random, eval is not; one forward in training still gives [B, classes].
    const Tensor x = randn({4, 3, 8, 8});
    CHECK(model.forward(x).to_vector<float>() != model.forward(x).to_vector<float>());
    model.eval();
    CHECK(model.forward(x).to_vector<float>() == model.forward(x).to_vector<float>());
    // Through the registry: ModelOptions' rates.
    ModelOptions opt;
    opt.drop_path_rate = 0.1f;
    auto vit = std::dynamic_pointer_cast<VisionTransformer>(make_model("vit_cifar", opt));
    REQUIRE(vit);
    CHECK(vit->blocks->at<TransformerBlock>(5)->drop_path1->p == doctest::Approx(0.1));
    CHECK(vit->blocks->at<TransformerBlock>(0)->drop_path1->p == 0.0f);
  }

  TEST_CASE("registry lists the ViTs; bad configurations throw") {
    const std::vector<std::string> names = model_names();
    for (const char* n : {"deit_tiny", "deit_small", "deit_base", "deit_tiny_distilled", "deit_small_distilled",
                          "deit_base_distilled", "vit_cifar"})
      CHECK(std::find(names.begin(), names.end(), n) != names.end());
    VitConfig c = tiny_config(false);
    c.num_heads = 3;
    CHECK_THROWS_AS(VisionTransformer{c}, Error);
    c = tiny_config(false);
    c.img_size = 10;
    CHECK_THROWS_AS(VisionTransformer{c}, Error);
    c = tiny_config(false);
    c.drop_path_rate = 1.0f;
    CHECK_THROWS_AS(VisionTransformer{c}, Error);
  }
}
