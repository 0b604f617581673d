#include "optim/adamw.h"

#include <cmath>

#include "core/creation.h"
#include "optim/update_loop.h"

namespace qnn::optim {

namespace {

void check_options(const AdamWOptions& o, const char* op) {
  QNN_CHECK(std::isfinite(o.lr) && o.lr >= 0.0, op, "lr " << o.lr << " (expected a finite value >= 0)");
  QNN_CHECK(o.beta1 >= 0.0 && o.beta1 < 1.0, op, "beta1 " << o.beta1 << " (expected 0 <= beta1 < 1)");
  QNN_CHECK(o.beta2 >= 0.0 && o.beta2 < 1.0, op, "beta2 " << o.beta2 << " (expected 0 <= beta2 < 1)");
  QNN_CHECK(std::isfinite(o.eps) && o.eps >= 0.0, op, "eps " << o.eps << " (expected a finite value >= 0)");
  QNN_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, op,
            "weight_decay " << o.weight_decay << " (expected a finite value >= 0)");
}

std::vector<ParamGroup> one_group(std::vector<Tensor> params) { return {ParamGroup{std::move(params), {}, {}, ""}}; }

// The scalars of one step, computed in double as PyTorch computes them in Python, then rounded
// to float once for the float32 kernel.
struct AdamWScalars {
  float decay;  // 1 - lr * wd
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
  float eps;
  float neg_step_size;  // -lr / (1 - beta1^t)
};

// One pass over p, g, m and v, in the order of _single_tensor_adamw: decay, moments, then
// p += -step_size * m / (sqrt(v) / bias_correction2_sqrt + eps).
void adamw_kernel(float* p_, const float* g_, float* m_, float* v_, int64_t n, const AdamWScalars& c) {
  parallel_chunks(n, [=, &c](int64_t begin, int64_t end) {
    float* __restrict p = p_;  // distinct arrays: lets the compiler vectorize without alias checks
    const float* __restrict g = g_;
    float* __restrict m = m_;
    float* __restrict v = v_;
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i];
      const float pi = p[i] * c.decay;
      const float mi = m[i] * c.beta1 + c.one_minus_beta1 * gi;
      const float vi = v[i] * c.beta2 + c.one_minus_beta2 * gi * gi;
      const float denom = std::sqrt(vi) / c.bias_correction2_sqrt + c.eps;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi + c.neg_step_size * mi / denom;
    }
  });
}

}  // namespace

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& options) : AdamW(one_group(std::move(params)), options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& options)
    : ParamGroupOptimizer(std::move(groups), options.lr, options.weight_decay, "AdamW"), options_(options) {
  check_options(options_, "AdamW");
}

void AdamW::step() {
  const AdamWOptions& o = options_;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& group = groups_[gi];
    for (size_t pi = 0; pi < group.params.size(); ++pi) {
      const Tensor& param = group.params[pi];
      if (!param.grad().defined())
        continue;
      const Slot s = open_slot(param, "AdamW.step");
      ParamState& st = state(gi, pi);
      st.buffers.resize(2);
      if (!st.buffers[0].defined()) {
        st.buffers[0] = zeros(param.shape());
        st.buffers[1] = zeros(param.shape());
      }
      ++st.step;
      const double t = static_cast<double>(st.step);
      const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
      const double bias_correction2 = 1.0 - std::pow(o.beta2, t);
      const AdamWScalars c{static_cast<float>(1.0 - group.lr * group.weight_decay),
                           static_cast<float>(o.beta1),
                           static_cast<float>(1.0 - o.beta1),
                           static_cast<float>(o.beta2),
                           static_cast<float>(1.0 - o.beta2),
                           static_cast<float>(std::sqrt(bias_correction2)),
                           static_cast<float>(o.eps),
                           static_cast<float>(-(group.lr / bias_correction1))};
      adamw_kernel(s.p, s.g, st.buffers[0].data<float>(), st.buffers[1].data<float>(), s.n, c);
      finish(s);
    }
  }
}

nlohmann::json AdamW::options_json() const {
  return {{"lr", options_.lr},
          {"beta1", options_.beta1},
          {"beta2", options_.beta2},
          {"eps", options_.eps},
          {"weight_decay", options_.weight_decay}};
}

void AdamW::load_options(const nlohmann::json& j) {
  for (const char* key : {"lr", "beta1", "beta2", "eps", "weight_decay"})
    QNN_CHECK(j.is_object() && j.contains(key) && j.at(key).is_number(), "load_state_dict",
              "options." << key << " is missing or not a number (expected AdamW options from state_dict())");
  AdamWOptions o;
  o.lr = j.at("lr").get<double>();
  o.beta1 = j.at("beta1").get<double>();
  o.beta2 = j.at("beta2").get<double>();
  o.eps = j.at("eps").get<double>();
  o.weight_decay = j.at("weight_decay").get<double>();
  check_options(o, "load_state_dict");
  options_ = o;
}

}  // namespace qnn::optim
