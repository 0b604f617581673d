#include "optim/sgd.h"

#include <cmath>

#include "optim/update_loop.h"

namespace qnn::optim {

namespace {

void check_options(const SGDOptions& o, const char* op) {
  QNN_CHECK(std::isfinite(o.lr) && o.lr >= 0.0, op, "lr " << o.lr << " (expected a finite value >= 0)");
  QNN_CHECK(std::isfinite(o.momentum) && o.momentum >= 0.0, op,
            "momentum " << o.momentum << " (expected a finite value >= 0)");
  QNN_CHECK(std::isfinite(o.dampening), op, "dampening " << o.dampening << " (expected a finite value)");
  QNN_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, op,
            "weight_decay " << o.weight_decay << " (expected a finite value >= 0)");
  QNN_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0), op,
            "nesterov with momentum " << o.momentum << " and dampening " << o.dampening
                                      << " (expected momentum > 0 and dampening 0)");
}

std::vector<ParamGroup> one_group(std::vector<Tensor> params) { return {ParamGroup{std::move(params), {}, {}, ""}}; }

// One pass over p, g and the buffer. The scalars are rounded to float once, as PyTorch passes
// Python floats to float32 kernels; the operations and their order are those of _single_tensor_sgd.
// Each combination of flags is its own branch-free (vectorizable) loop.
template <bool Decay, bool Momentum, bool Nesterov, bool First>
void sgd_kernel(float* p_, const float* g_, float* buf_, int64_t n, float lr, float wd, float momentum,
                float one_minus_dampening) {
  parallel_chunks(n, [=](int64_t begin, int64_t end) {
    float* __restrict p = p_;  // distinct arrays: lets the compiler vectorize without alias checks
    const float* __restrict g = g_;
    float* __restrict buf = buf_;
    for (int64_t i = begin; i < end; ++i) {
      float d = g[i];
      if constexpr (Decay)
        d = d + wd * p[i];
      if constexpr (Momentum) {
        const float b = First ? d : buf[i] * momentum + one_minus_dampening * d;
        buf[i] = b;
        d = Nesterov ? d + momentum * b : b;
      }
      p[i] = p[i] + -lr * d;
    }
  });
}

// Calls fn.template operator()<B>() with B = flag: a runtime flag made a template argument.
template <class Fn>
void with_flag(bool flag, Fn&& fn) {
  if (flag)
    fn.template operator()<true>();
  else
    fn.template operator()<false>();
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, const SGDOptions& options) : SGD(one_group(std::move(params)), options) {}

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& options)
    : ParamGroupOptimizer(std::move(groups), options.lr, options.weight_decay, "SGD"), options_(options) {
  check_options(options_, "SGD");
}

void SGD::step() {
  const bool use_momentum = options_.momentum != 0.0;
  const float momentum = static_cast<float>(options_.momentum);
  const float one_minus_dampening = static_cast<float>(1.0 - options_.dampening);
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& group = groups_[gi];
    const float lr = static_cast<float>(group.lr), wd = static_cast<float>(group.weight_decay);
    const bool decay = group.weight_decay != 0.0;
    for (size_t pi = 0; pi < group.params.size(); ++pi) {
      const Tensor& param = group.params[pi];
      if (!param.grad().defined())
        continue;
      const Slot s = open_slot(param, "SGD.step");
      ParamState& st = state(gi, pi);
      st.buffers.resize(1);
      float* buf = nullptr;
      bool first = false;
      if (use_momentum) {
        first = !st.buffers[0].defined();
        if (first)
          st.buffers[0] = Tensor::empty(param.shape());  // written before it is read
        buf = st.buffers[0].data<float>();
      }
      ++st.step;
      with_flag(decay, [&]<bool Decay>() {
        with_flag(use_momentum, [&]<bool Momentum>() {
          with_flag(use_momentum && options_.nesterov, [&]<bool Nesterov>() {
            with_flag(first, [&]<bool First>() {
              sgd_kernel<Decay, Momentum, Nesterov, First>(s.p, s.g, buf, s.n, lr, wd, momentum, one_minus_dampening);
            });
          });
        });
      });
      finish(s);
    }
  }
}

nlohmann::json SGD::options_json() const {
  return {{"lr", options_.lr},
          {"momentum", options_.momentum},
          {"dampening", options_.dampening},
          {"nesterov", options_.nesterov},
          {"weight_decay", options_.weight_decay}};
}

void SGD::load_options(const nlohmann::json& j) {
  SGDOptions o;
  for (const char* key : {"lr", "momentum", "dampening", "weight_decay"})
    QNN_CHECK(j.is_object() && j.contains(key) && j.at(key).is_number(), "load_state_dict",
              "options." << key << " is missing or not a number (expected SGD options from state_dict())");
  QNN_CHECK(j.contains("nesterov") && j.at("nesterov").is_boolean(), "load_state_dict",
            "options.nesterov is missing or not a boolean");
  o.lr = j.at("lr").get<double>();
  o.momentum = j.at("momentum").get<double>();
  o.dampening = j.at("dampening").get<double>();
  o.nesterov = j.at("nesterov").get<bool>();
  o.weight_decay = j.at("weight_decay").get<double>();
  check_options(o, "load_state_dict");
  options_ = o;
}

}  // namespace qnn::optim
