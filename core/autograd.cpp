#include "core/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "core/creation.h"
#include "core/ops/elementwise.h"

namespace qnn {
namespace {

thread_local bool g_grad_enabled = true;

Edge edge_to(const Tensor& input) {
  if (!input.defined() || !input.requires_grad())
    return {};
  if (input.grad_fn())
    return {input.grad_fn(), nullptr};
  return {nullptr, input.impl_ptr()};
}

void record_impl(const char* op, const Tensor& output, const Tensor* inputs, size_t n, BackwardFn backward) {
  auto node = std::make_shared<Node>();
  node->op = op;
  node->next.reserve(n);
  for (size_t i = 0; i < n; ++i)
    node->next.push_back(edge_to(inputs[i]));
  node->backward = std::move(backward);
  output.impl()->requires_grad = true;
  output.set_grad_fn(std::move(node));
}

// Nodes reachable from `root`, ordered so each node comes before every node it feeds into
// (reverse topological order of the forward pass). Iterative, so deep graphs cannot overflow.
// Shared pointers keep every node alive while backward frees edges along the way.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> visited{root.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next_index] = stack.back();
    if (next_index < node->next.size()) {
      std::shared_ptr<Node> child = node->next[next_index++].node;
      if (child && visited.insert(child.get()).second)
        stack.push_back({std::move(child), 0});
    } else {
      order.push_back(std::move(node));
      stack.pop_back();
    }
  }
  return {order.rbegin(), order.rend()};  // root first
}

// True when nothing but `t` can see its memory: this handle is the only one, the storage has no
// other tensor on it, and t covers the storage exactly. Such a gradient can become .grad as it is.
bool owns_its_memory(const Tensor& t) {
  return t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1 && t.offset() == 0 && t.is_contiguous() &&
         static_cast<size_t>(t.numel()) * dtype_size(t.dtype()) == t.storage()->nbytes() && !t.grad_fn();
}

void accumulate_into_leaf(TensorImpl* leaf, Tensor grad) {
  QNN_CHECK(grad.shape() == leaf->shape, "backward",
            "gradient of shape " << shape_str(grad.shape()) << " for a leaf of shape " << shape_str(leaf->shape)
                                 << " (expected equal shapes)");
  if (leaf->grad.defined())
    add_(leaf->grad, grad);
  else if (owns_its_memory(grad))
    leaf->grad = std::move(grad);  // a fresh gradient nobody else holds: keep it, skip a copy
  else
    leaf->grad = grad.clone().detach();  // own the memory: later accumulation is in place
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool needs_grad(std::initializer_list<Tensor> inputs) {
  if (!g_grad_enabled)
    return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad())
      return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled)
    return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad())
      return true;
  return false;
}

void record(const char* op, const Tensor& output, std::initializer_list<Tensor> inputs, BackwardFn backward) {
  if (needs_grad(inputs))
    record_impl(op, output, inputs.begin(), inputs.size(), std::move(backward));
}

void record(const char* op, const Tensor& output, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (needs_grad(inputs))
    record_impl(op, output, inputs.data(), inputs.size(), std::move(backward));
}

void run_backward(const Tensor& root, const Tensor& grad_root) {
  QNN_CHECK(root.requires_grad(), "backward",
            "got a tensor that does not require grad (expected the result of ops on tensors with "
            "requires_grad)");
  Tensor seed = grad_root;
  if (!seed.defined()) {
    QNN_CHECK(root.numel() == 1, "backward",
              "got a non-scalar output of shape " << shape_str(root.shape())
                                                  << " and no gradient (expected a scalar, or pass grad)");
    seed = Tensor::empty(root.shape(), root.dtype(), root.device());
    fill_(seed, 1.0f);
  }
  QNN_CHECK(seed.shape() == root.shape(), "backward",
            "gradient of shape " << shape_str(seed.shape()) << " for an output of shape " << shape_str(root.shape())
                                 << " (expected equal shapes)");
  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // a leaf: its gradient is the seed itself
    accumulate_into_leaf(root.impl(), seed);
    return;
  }
  const std::shared_ptr<Node>& start = root.grad_fn();
  QNN_CHECK(start->backward, "backward",
            "the graph of '" << start->op << "' was already freed by an earlier backward()");
  std::unordered_map<Node*, Tensor> pending{{start.get(), seed}};
  for (const std::shared_ptr<Node>& node : topological_order(start)) {
    auto it = pending.find(node.get());
    if (it == pending.end())
      continue;  // nothing flowed here (all consumers skipped it)
    Tensor grad = std::move(it->second);
    pending.erase(it);
    QNN_CHECK(node->backward, "backward",
              "the graph of '" << node->op << "' was already freed by an earlier backward()");
    std::vector<Tensor> input_grads = node->backward(grad);
    QNN_CHECK(
        input_grads.size() == node->next.size(), "backward",
        "'" << node->op << "' returned " << input_grads.size() << " gradients (expected " << node->next.size() << ")");
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const Edge& edge = node->next[i];
      Tensor& g = input_grads[i];
      if (!g.defined())
        continue;
      if (edge.node) {
        Tensor& slot = pending[edge.node.get()];
        slot = slot.defined() ? add(slot, g) : g;
      } else if (edge.leaf) {
        accumulate_into_leaf(edge.leaf.get(), std::move(g));
      }
    }
    // Free this part of the graph: saved tensors live in the closure, inputs in the edges.
    node->backward = nullptr;
    node->next.clear();
  }
}

}  // namespace qnn
