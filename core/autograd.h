#pragma once
// Define-by-run reverse-mode autodiff. A differentiable op computes its output and, when grad
// mode is on and an input requires grad, records a Node on the output: the backward closure
// (written next to the forward, in the op's file) and one Edge per input. backward() walks the
// nodes once in reverse topological order, sums gradients that meet, accumulates into leaves'
// .grad(), and frees the graph (closures and edges) as it goes.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qnn {

// Maps the gradient of the op's output to the gradients of its inputs (one per input; an
// undefined Tensor where an input needs none). Runs with grad mode off.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Edge {
  std::shared_ptr<Node> node;        // the producer of a non-leaf input, or
  std::shared_ptr<TensorImpl> leaf;  // a leaf that requires grad, or neither
};

struct Node {
  std::string op;
  std::vector<Edge> next;  // one per input, in the order the backward returns gradients
  BackwardFn backward;     // null once the graph has been freed
};

// Grad mode (thread-local). NoGradGuard turns recording off for its scope, as torch.no_grad().
bool grad_enabled();
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True when grad mode is on and any of `inputs` requires grad: the op must record a node.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Records `backward` on `output` when needs_grad(inputs). Capture saved tensors detached
// (`x.detach()`) so the closure never keeps its own output's graph alive.
void record(const char* op, const Tensor& output, std::initializer_list<Tensor> inputs, BackwardFn backward);
void record(const char* op, const Tensor& output, const std::vector<Tensor>& inputs, BackwardFn backward);

// Runs backpropagation from `root` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& grad);

}  // namespace qnn
