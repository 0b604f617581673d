#include "quant/qat/qat_optimizer.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <span>

#include "core/autograd.h"
#include "core/error.h"
#include "nn/conv2d.h"
#include "nn/linear.h"

namespace qnn::quant {

namespace {

std::span<float> values(const Tensor& t) { return {t.data<float>(), static_cast<size_t>(t.numel())}; }

void copy_values(const Tensor& dst, const Tensor& src) {
  std::memcpy(dst.data<float>(), src.data<float>(), static_cast<size_t>(src.numel()) * sizeof(float));
}

}  // namespace

std::vector<QATParamGroup> default_qat_groups(nn::Module& model, const QuantizerSpec& spec, bool per_channel,
                                              bool fp_stem_head) {
  // Every Conv2d and Linear weight, in module order; the first conv is the stem, the last Linear
  // the head (the classifier).
  std::vector<std::pair<std::string, Tensor>> convs, linears, all;
  for (const auto& [name, m] : model.named_modules()) {
    const std::string key = name.empty() ? "weight" : name + ".weight";
    if (auto* conv = dynamic_cast<nn::Conv2d*>(m.get())) {
      convs.emplace_back(key, conv->weight);
      all.emplace_back(key, conv->weight);
    } else if (auto* linear = dynamic_cast<nn::Linear*>(m.get())) {
      linears.emplace_back(key, linear->weight);
      all.emplace_back(key, linear->weight);
    }
  }
  std::set<std::string> fp;
  if (fp_stem_head) {
    if (!convs.empty())
      fp.insert(convs.front().first);
    if (!linears.empty())
      fp.insert(linears.back().first);
  }
  QATParamGroup quantized{"quantized", {}, spec, per_channel};
  QATParamGroup full{"fp", {}, std::nullopt, false};
  for (const auto& [name, t] : all)
    (fp.count(name) ? full : quantized).params.emplace_back(name, t);
  std::vector<QATParamGroup> groups;
  if (!quantized.params.empty())
    groups.push_back(std::move(quantized));
  if (!full.params.empty())
    groups.push_back(std::move(full));
  return groups;
}

QATOptimizer::QATOptimizer(optim::Optimizer& base, std::vector<QATParamGroup> groups, QATOptions options)
    : base_(base), options_(options) {
  const char* op = "QATOptimizer";
  QNN_CHECK(options_.warmup_steps >= 0 && options_.quant_period >= 1, op,
            "got warmup_steps " << options_.warmup_steps << ", quant_period " << options_.quant_period
                                << " (expected >= 0 and >= 1)");
  std::set<const TensorImpl*> in_base;
  for (const Tensor& p : base_.params())
    in_base.insert(p.impl());
  std::set<const TensorImpl*> seen;
  for (QATParamGroup& g : groups) {
    if (!g.quantizer)
      continue;
    for (auto& [name, p] : g.params) {
      QNN_CHECK(p.defined() && p.dtype() == DType::Float32 && p.is_contiguous() && p.device() == Device::cpu(), op,
                name << " is not a contiguous float32 CPU tensor (expected a parameter)");
      QNN_CHECK(in_base.count(p.impl()), op, name << " is not a parameter of the base optimizer (expected it to be)");
      QNN_CHECK(seen.insert(p.impl()).second, op, name << " appears twice (expected each tensor in one group)");
      Entry e;
      e.name = name;
      e.param = p;
      e.spec = *g.quantizer;
      e.rows = g.per_channel && p.dim() > 1 ? p.size(0) : 1;
      entries_.push_back(std::move(e));
    }
  }
}

void QATOptimizer::refresh_Q(Entry& e, std::vector<float>* q_hat) const {
  // Q from the *latent* u^{t+1} (Algorithm 1), one per group.
  GroupQuantization g = quantize_groups(values(e.latent), e.rows, e.spec);
  e.Q = std::move(g.Q);
  if (q_hat)
    *q_hat = std::move(g.q_hat);
}

void QATOptimizer::step() {
  NoGradGuard no_grad;
  const int64_t warmup = options_.warmup_steps;
  if (t_ < warmup) {  // plain full-precision training, no quantization at all
    base_.step();
    ++t_;
    return;
  }
  // Put u^t back into the parameter before the base step: the base optimizer updates the latent,
  // with the gradient taken at w^t (PARQ paper, Algorithm 1; stepping from w^t would throw u's progress away).
  for (Entry& e : entries_) {
    if (t_ == warmup) {  // first QAT step: u := the current FP weights
      e.latent = Tensor::empty(e.param.shape());
      copy_values(e.latent, e.param);
    } else {
      copy_values(e.param, e.latent);
    }
  }
  base_.step();  // P := u^{t+1} = BaseUpdate(u^t, g^t); weight decay acts on u
  for (size_t gi = 0; gi < base_.num_groups(); ++gi)
    cumu_lr_ += base_.lr(gi);
  const bool update_Q = (t_ - warmup) % options_.quant_period == 0;
  const bool use_q_hat = update_Q && options_.hard_from_quantizer && options_.map.is_hard(t_);
  std::vector<float> q_hat;
  for (Entry& e : entries_) {
    copy_values(e.latent, e.param);  // store u^{t+1}
    if (update_Q)
      refresh_Q(e, use_q_hat ? &q_hat : nullptr);
    if (use_q_hat) {
      std::copy(q_hat.begin(), q_hat.end(), e.param.data<float>());
      continue;
    }
    // w^{t+1} = M_t(u^{t+1}; Q^{t+1}), group by group
    const std::span<const float> u = values(e.latent);
    const std::span<float> w = values(e.param);
    const size_t n = u.size() / static_cast<size_t>(e.rows);
    for (int64_t r = 0; r < e.rows; ++r)
      options_.map.apply(u.subspan(r * n, n), e.Q[r], t_, w.subspan(r * n, n));
  }
  ++t_;
}

QATOptimizer::Report QATOptimizer::report() const {
  Report r;
  r.t = t_;
  // The map of the last step taken (t - 1).
  const int64_t last = std::max<int64_t>(t_ - 1, 0);
  r.phase = !quantizing() ? "warmup" : options_.map.is_hard(last) ? "hard" : "anneal";
  r.value = quantizing() ? options_.map.value(last) : 0.0;
  int64_t on = 0;
  for (const Entry& e : entries_) {
    r.num_quantized += e.param.numel();
    if (e.Q.empty())
      continue;
    const std::span<const float> w = values(e.param);
    const size_t n = w.size() / static_cast<size_t>(e.rows);
    for (size_t i = 0; i < w.size(); ++i)
      on += e.Q[i / n].index_of(w[i]) >= 0;
  }
  r.fraction_on_Q = r.num_quantized ? static_cast<double>(on) / static_cast<double>(r.num_quantized) : 0.0;
  return r;
}

int64_t QATOptimizer::final_projection() {
  NoGradGuard no_grad;
  int64_t changed = 0;
  for (Entry& e : entries_) {
    if (!e.latent.defined()) {  // QAT never started: quantize the FP weights themselves
      e.latent = Tensor::empty(e.param.shape());
      copy_values(e.latent, e.param);
    }
    if (e.Q.empty())
      refresh_Q(e, nullptr);
    const std::span<const float> u = values(e.latent);
    const std::span<float> w = values(e.param);
    const size_t n = u.size() / static_cast<size_t>(e.rows);
    for (size_t i = 0; i < u.size(); ++i) {
      const float q = e.Q[i / n].nearest(u[i]);
      changed += q != w[i];
      w[i] = q;
    }
  }
  return changed;
}

std::vector<QuantizedParam> QATOptimizer::quantized_params() const {
  std::vector<QuantizedParam> out;
  for (const Entry& e : entries_)
    out.push_back({e.name, e.Q});
  return out;
}

namespace {
constexpr const char* kBasePrefix = "base.";
}

optim::StateDict QATOptimizer::state_dict() const {
  optim::StateDict s;
  const optim::StateDict base = base_.state_dict();
  for (const auto& [name, t] : base.tensors)
    s.tensors.emplace_back(kBasePrefix + name, t);
  nlohmann::json Q = nlohmann::json::object();
  for (const Entry& e : entries_) {
    if (e.latent.defined())
      s.tensors.emplace_back("latent." + e.name, e.latent);
    nlohmann::json rows = nlohmann::json::array();
    for (const Alphabet& a : e.Q)
      rows.push_back(a.levels());  // floats widen to doubles exactly and print round-trip
    Q[e.name] = rows;
  }
  s.scalars = {{"t", t_},
               {"cumu_lr", cumu_lr_},
               {"warmup_steps", options_.warmup_steps},
               {"quant_period", options_.quant_period},
               {"map", ProxMap::to_string(options_.map.kind)},
               {"Q", Q},
               {"optimizer", kind()},
               {"base", base.scalars}};
  return s;
}

void QATOptimizer::load_state_dict(const optim::StateDict& state) {
  const char* op = "QATOptimizer::load_state_dict";
  const nlohmann::json& s = state.scalars;
  QNN_CHECK(s.is_object() && s.contains("t") && s.contains("Q") && s.contains("base"), op,
            "got no QAT state (expected t, Q and the base optimizer's state)");
  QNN_CHECK(s.value("map", std::string()) == ProxMap::to_string(options_.map.kind), op,
            "state of map " << s.value("map", std::string("?")) << " (expected "
                            << ProxMap::to_string(options_.map.kind) << ")");
  std::vector<Tensor> latents(entries_.size());
  std::vector<std::vector<Alphabet>> Qs(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    for (const auto& [name, t] : state.tensors)
      if (name == "latent." + e.name) {
        QNN_CHECK(t.shape() == e.param.shape(), op, name << " has the wrong shape");
        latents[i] = Tensor::empty(t.shape());
        copy_values(latents[i], t.contiguous());
      }
    QNN_CHECK(s.at("Q").contains(e.name), op, "no Q for " << e.name);
    for (const auto& row : s.at("Q").at(e.name))
      Qs[i].push_back(Alphabet::from_levels(row.get<std::vector<float>>()));
    QNN_CHECK(Qs[i].empty() || static_cast<int64_t>(Qs[i].size()) == e.rows, op,
              e.name << " has " << Qs[i].size() << " alphabets (expected " << e.rows << ")");
  }
  // Everything of ours is checked; the base checks its own part and changes nothing if it throws.
  optim::StateDict base;
  base.scalars = s.at("base");
  const std::string prefix = kBasePrefix;
  for (const auto& [name, t] : state.tensors)
    if (name.rfind(prefix, 0) == 0)
      base.tensors.emplace_back(name.substr(prefix.size()), t);
  base_.load_state_dict(base);
  for (size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].latent = latents[i];
    entries_[i].Q = std::move(Qs[i]);
  }
  t_ = s.at("t").get<int64_t>();
  cumu_lr_ = s.value("cumu_lr", 0.0);
}

}  // namespace qnn::quant
