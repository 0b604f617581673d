#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/autograd.h"
#include "core/shape.h"

namespace qnn::optim {

namespace {

bool valid_rate(double v) { return std::isfinite(v) && v >= 0.0; }

// A field of the saved scalars, with a qnn::Error naming what is missing or of the wrong kind.
const nlohmann::json& field(const nlohmann::json& obj, const char* key, const std::string& where) {
  QNN_CHECK(obj.is_object() && obj.contains(key), "load_state_dict",
            where << " has no '" << key << "' (expected a state dict written by state_dict())");
  return obj.at(key);
}

double number_field(const nlohmann::json& obj, const char* key, const std::string& where) {
  const nlohmann::json& v = field(obj, key, where);
  QNN_CHECK(v.is_number(), "load_state_dict", where << "." << key << " is " << v.dump() << " (expected a number)");
  return v.get<double>();
}

// "state.<group>.<param>.<buffer>" -> (group, param, buffer); false when the name has another form.
bool parse_state_name(const std::string& name, size_t& group, size_t& param, std::string& buffer) {
  const std::string prefix = "state.";
  if (name.rfind(prefix, 0) != 0)
    return false;
  size_t pos = prefix.size();
  auto read_index = [&](size_t& out) {
    const size_t dot = name.find('.', pos);
    if (dot == std::string::npos || dot == pos)
      return false;
    const std::string digits = name.substr(pos, dot - pos);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 9)
      return false;
    out = std::stoul(digits);
    pos = dot + 1;
    return true;
  };
  if (!read_index(group) || !read_index(param) || pos >= name.size())
    return false;
  buffer = name.substr(pos);
  return true;
}

}  // namespace

namespace {

bool is_bias_name(const std::string& name) {
  return name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
}

// Trainable parameters split by `exempt` into "decay" and "no_decay", empty groups left out.
template <class Exempt>
std::vector<ParamGroup> split_by_decay(const NamedTensors& named, double weight_decay, Exempt exempt) {
  ParamGroup decay{{}, std::nullopt, weight_decay, "decay"};
  ParamGroup no_decay{{}, std::nullopt, 0.0, "no_decay"};
  for (const auto& [name, t] : named) {
    if (!t.defined() || !t.requires_grad())
      continue;
    (exempt(name, t) ? no_decay : decay).params.push_back(t);
  }
  std::vector<ParamGroup> groups;
  if (!decay.params.empty())
    groups.push_back(std::move(decay));
  if (!no_decay.params.empty())
    groups.push_back(std::move(no_decay));
  return groups;
}

}  // namespace

std::vector<ParamGroup> weight_decay_groups(const NamedTensors& named, double weight_decay,
                                            const std::vector<std::string>& no_decay_names) {
  return split_by_decay(named, weight_decay, [&](const std::string& name, const Tensor& t) {
    const bool listed = std::find(no_decay_names.begin(), no_decay_names.end(), name) != no_decay_names.end();
    return t.dim() <= 1 || is_bias_name(name) || listed;
  });
}

std::vector<ParamGroup> bias_no_decay_groups(const NamedTensors& named, double weight_decay) {
  return split_by_decay(named, weight_decay, [](const std::string& name, const Tensor&) { return is_bias_name(name); });
}

ParamGroupOptimizer::ParamGroupOptimizer(std::vector<ParamGroup> groups, double default_lr, double default_weight_decay,
                                         const char* kind) {
  QNN_CHECK(!groups.empty(), kind, "got no parameter groups (expected at least one)");
  std::set<const TensorImpl*> seen;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    ParamGroup& in = groups[gi];
    Group g;
    g.name = in.name;
    g.lr = in.lr.value_or(default_lr);
    g.weight_decay = in.weight_decay.value_or(default_weight_decay);
    QNN_CHECK(!in.params.empty(), kind,
              "group " << gi << " ('" << in.name << "') has no parameters (expected at least one)");
    QNN_CHECK(valid_rate(g.lr), kind, "group " << gi << ": lr " << g.lr << " (expected a finite value >= 0)");
    QNN_CHECK(valid_rate(g.weight_decay), kind,
              "group " << gi << ": weight_decay " << g.weight_decay << " (expected a finite value >= 0)");
    for (size_t pi = 0; pi < in.params.size(); ++pi) {
      const Tensor& p = in.params[pi];
      QNN_CHECK(p.defined(), kind, "group " << gi << " parameter " << pi << " is undefined (expected a tensor)");
      QNN_CHECK(p.dtype() == DType::Float32, kind,
                "group " << gi << " parameter " << pi << " has dtype " << p.dtype() << " (expected float32)");
      QNN_CHECK(p.requires_grad() && p.is_leaf(), kind,
                "group " << gi << " parameter " << pi << " is not a leaf that requires grad (expected a parameter)");
      QNN_CHECK(seen.insert(p.impl()).second, kind,
                "group " << gi << " parameter " << pi << " appears twice (expected each parameter in one group)");
    }
    g.params = std::move(in.params);
    groups_.push_back(std::move(g));
  }
  state_.resize(groups_.size());
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    state_[gi].resize(groups_[gi].params.size());
}

void ParamGroupOptimizer::zero_grad() {
  for (const Group& g : groups_)
    for (const Tensor& p : g.params)
      p.zero_grad();
}

std::vector<Tensor> ParamGroupOptimizer::params() const {
  std::vector<Tensor> out;
  for (const Group& g : groups_)
    out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

double ParamGroupOptimizer::lr(size_t group) const {
  QNN_CHECK(group < groups_.size(), "lr", "group " << group << " (expected < " << groups_.size() << ")");
  return groups_[group].lr;
}

void ParamGroupOptimizer::set_lr(size_t group, double lr) {
  QNN_CHECK(group < groups_.size(), "set_lr", "group " << group << " (expected < " << groups_.size() << ")");
  QNN_CHECK(valid_rate(lr), "set_lr", "lr " << lr << " (expected a finite value >= 0)");
  groups_[group].lr = lr;
}

void Optimizer::set_lr(double lr) {
  QNN_CHECK(valid_rate(lr), "set_lr", "lr " << lr << " (expected a finite value >= 0)");
  for (size_t g = 0; g < num_groups(); ++g)
    set_lr(g, lr);
}

void ParamGroupOptimizer::set_weight_decay(size_t group, double weight_decay) {
  QNN_CHECK(group < groups_.size(), "set_weight_decay", "group " << group << " (expected < " << groups_.size() << ")");
  QNN_CHECK(valid_rate(weight_decay), "set_weight_decay",
            "weight_decay " << weight_decay << " (expected a finite value >= 0)");
  groups_[group].weight_decay = weight_decay;
}

int64_t ParamGroupOptimizer::step_count(size_t group, size_t param) const {
  QNN_CHECK(group < groups_.size() && param < groups_[group].params.size(), "step_count",
            "group " << group << " parameter " << param << " (expected an existing parameter)");
  return state_[group][param].step;
}

StateDict ParamGroupOptimizer::state_dict() const {
  const std::vector<std::string> names = buffer_names();
  StateDict out;
  out.scalars["optimizer"] = kind();
  out.scalars["options"] = options_json();
  nlohmann::json groups = nlohmann::json::array(), steps = nlohmann::json::array();
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const Group& g = groups_[gi];
    groups.push_back(
        {{"name", g.name}, {"lr", g.lr}, {"weight_decay", g.weight_decay}, {"num_params", g.params.size()}});
    nlohmann::json group_steps = nlohmann::json::array();
    for (size_t pi = 0; pi < g.params.size(); ++pi) {
      const ParamState& st = state_[gi][pi];
      group_steps.push_back(st.step);
      for (size_t b = 0; b < st.buffers.size(); ++b)
        if (st.buffers[b].defined())
          out.tensors.emplace_back("state." + std::to_string(gi) + "." + std::to_string(pi) + "." + names[b],
                                   st.buffers[b]);
    }
    steps.push_back(std::move(group_steps));
  }
  out.scalars["groups"] = std::move(groups);
  out.scalars["steps"] = std::move(steps);
  return out;
}

void ParamGroupOptimizer::load_state_dict(const StateDict& state) {
  const nlohmann::json& s = state.scalars;
  const std::string op = "load_state_dict";
  QNN_CHECK(s.is_object(), op, "scalars are " << s.type_name() << " (expected an object from state_dict())");
  const nlohmann::json& kind_json = field(s, "optimizer", "state");
  QNN_CHECK(kind_json.is_string() && kind_json.get<std::string>() == kind(), op,
            "state of optimizer " << kind_json.dump() << " (expected \"" << kind() << "\")");

  // Groups: same count, same parameter counts and names; valid rates.
  const nlohmann::json& groups = field(s, "groups", "state");
  const nlohmann::json& steps = field(s, "steps", "state");
  QNN_CHECK(groups.is_array() && groups.size() == groups_.size(), op,
            "state with " << (groups.is_array() ? groups.size() : 0) << " groups (expected " << groups_.size() << ")");
  QNN_CHECK(steps.is_array() && steps.size() == groups_.size(), op,
            "steps for " << (steps.is_array() ? steps.size() : 0) << " groups (expected " << groups_.size() << ")");
  std::vector<double> lrs(groups_.size()), wds(groups_.size());
  std::vector<std::vector<ParamState>> new_state(groups_.size());
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const std::string where = "groups[" + std::to_string(gi) + "]";
    const nlohmann::json& g = groups[gi];
    const size_t n = groups_[gi].params.size();
    const double num_params = number_field(g, "num_params", where);
    QNN_CHECK(num_params == static_cast<double>(n), op,
              where << " has " << num_params << " parameters (expected " << n << ")");
    const nlohmann::json& name = field(g, "name", where);
    QNN_CHECK(name.is_string() && name.get<std::string>() == groups_[gi].name, op,
              where << " is named " << name.dump() << " (expected \"" << groups_[gi].name << "\")");
    lrs[gi] = number_field(g, "lr", where);
    wds[gi] = number_field(g, "weight_decay", where);
    QNN_CHECK(valid_rate(lrs[gi]), op, where << ".lr " << lrs[gi] << " (expected a finite value >= 0)");
    QNN_CHECK(valid_rate(wds[gi]), op, where << ".weight_decay " << wds[gi] << " (expected a finite value >= 0)");
    QNN_CHECK(steps[gi].is_array() && steps[gi].size() == n, op,
              "steps[" << gi << "] has " << (steps[gi].is_array() ? steps[gi].size() : 0) << " entries (expected " << n
                       << ")");
    new_state[gi].resize(n);
    for (size_t pi = 0; pi < n; ++pi) {
      const nlohmann::json& st = steps[gi][pi];
      QNN_CHECK(st.is_number_integer() && st.get<int64_t>() >= 0, op,
                "steps[" << gi << "][" << pi << "] is " << st.dump() << " (expected an integer >= 0)");
      new_state[gi][pi].step = st.get<int64_t>();
    }
  }

  // Buffers: known names, existing parameters, matching shapes, each given once.
  const std::vector<std::string> names = buffer_names();
  for (auto& group_state : new_state)
    for (ParamState& ps : group_state)
      ps.buffers.resize(names.size());
  for (const auto& [name, t] : state.tensors) {
    size_t gi = 0, pi = 0;
    std::string buffer;
    QNN_CHECK(parse_state_name(name, gi, pi, buffer), op,
              "tensor '" << name << "' (expected names state.<group>.<param>.<buffer>)");
    const auto it = std::find(names.begin(), names.end(), buffer);
    QNN_CHECK(it != names.end(), op,
              "tensor '" << name << "' names an unknown buffer (" << kind() << " keeps no '" << buffer << "')");
    QNN_CHECK(gi < groups_.size() && pi < groups_[gi].params.size(), op,
              "tensor '" << name << "' names a parameter this optimizer does not have");
    const Tensor& p = groups_[gi].params[pi];
    QNN_CHECK(t.defined() && t.dtype() == DType::Float32 && t.shape() == p.shape(), op,
              "tensor '" << name << "' is " << (t.defined() ? shape_str(t.shape()) : "undefined") << " "
                         << (t.defined() ? dtype_name(t.dtype()) : "") << " (expected float32 of shape "
                         << shape_str(p.shape()) << ")");
    Tensor& slot = new_state[gi][pi].buffers[static_cast<size_t>(it - names.begin())];
    QNN_CHECK(!slot.defined(), op, "tensor '" << name << "' is given twice");
    slot = t;
  }
  const bool need_buffers = buffers_after_step(field(s, "options", "state"));
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi) {
      const ParamState& ps = new_state[gi][pi];
      const size_t present =
          std::count_if(ps.buffers.begin(), ps.buffers.end(), [](const Tensor& b) { return b.defined(); });
      QNN_CHECK(present == 0 || present == names.size(), op,
                "parameter " << gi << "." << pi << " has " << present << " of its " << names.size()
                             << " buffers (expected all or none)");
      QNN_CHECK(present == 0 || ps.step > 0, op,
                "parameter " << gi << "." << pi << " has buffers but step 0 (expected buffers only after a step)");
      // A stepped parameter without its buffers would resume from fresh ones, silently.
      QNN_CHECK(!need_buffers || ps.step == 0 || present == names.size(), op,
                "parameter " << gi << "." << pi << " has had " << ps.step << " steps but its " << names.front()
                             << " is missing (expected state." << gi << "." << pi << "." << names.front() << ")");
    }

  load_options(field(s, "options", "state"));  // validates before it changes anything

  // Everything checked: apply. Buffers are copied so the caller's tensors stay theirs.
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    groups_[gi].lr = lrs[gi];
    groups_[gi].weight_decay = wds[gi];
    for (size_t pi = 0; pi < groups_[gi].params.size(); ++pi)
      for (Tensor& b : new_state[gi][pi].buffers)
        if (b.defined())
          b = b.detach().to(groups_[gi].params[pi].device()).clone().detach();
  }
  state_ = std::move(new_state);
}

ParamGroupOptimizer::Slot ParamGroupOptimizer::open_slot(const Tensor& param, const char* op) {
  Slot s;
  s.param = param;
  const Tensor g = param.grad();
  QNN_CHECK(param.device().is_cpu(), op, "parameter on " << param.device() << " (expected cpu: no CUDA update yet)");
  QNN_CHECK(g.shape() == param.shape() && g.dtype() == DType::Float32 && g.device() == param.device(), op,
            "gradient " << shape_str(g.shape()) << " " << g.dtype() << " on " << g.device() << " for a parameter "
                        << shape_str(param.shape()) << " (expected the same shape, float32, " << param.device() << ")");
  NoGradGuard no_grad;
  s.grad = g.is_contiguous() ? g : g.contiguous();
  s.work = param.is_contiguous() ? param : param.detach().contiguous();
  s.p = static_cast<float*>(s.work.raw_data());
  s.g = s.grad.data<float>();
  s.n = param.numel();
  return s;
}

void ParamGroupOptimizer::finish(const Slot& slot) {
  if (slot.work.impl() != slot.param.impl())
    copy_(slot.param, slot.work);
}

}  // namespace qnn::optim
