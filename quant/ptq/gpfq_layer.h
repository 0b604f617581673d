#pragma once
// GPFQ for one layer: the greedy path-following quantizer of P2 Algorithm 1, Phase II
// (Zhang, Zhou, Saab, "Post-training quantization for neural networks with provable guarantees";
// P2 = the later version). For every neuron w (a row of W) it chooses q_1, q_2, ... in index order
// so that the quantized pre-activation X-tilde q tracks the analog one X w, through the state
//   u_0 = 0,   u_t = u_{t-1} + w_t X_t - q_t X-tilde_t                                  P2 (8)
//   q_t = Q( <X-tilde_t, u_{t-1} + w_t X_t> / ||X-tilde_t||^2 ) = Q(alpha_t)             P2 (9)
// so that at the end ||u_N|| = ||X w - X-tilde q||. X, X-tilde [m, N]: one sample per row, the
// layer's input in the analog and in the partly quantized network. Neurons are independent and run
// in parallel; the result does not depend on the thread count.
//
// Sparse GPFQ (P2 section 4): soft thresholding q_t = Q(s_lambda(alpha_t)) over the midtread
// alphabet, P2 (27); hard thresholding q_t = Q~(alpha_t) over the thresholded alphabet A_K^{delta,
// lambda}, P2 (28), which is just the plain rule with that alphabet (Q~ already maps |z| <= lambda
// to 0). A neuron whose input column is dead (||X-tilde_t|| = 0: every p is optimal, Lemma A.1
// does not apply) gets q_t = Q(0), as the authors' code does.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

enum class GpfqForm {
  automatic,  // the cheaper of the two for the layer's sizes
  direct,     // the recursion P2 (8)-(9) on u in R^m: O(m N) per neuron
  gram,       // the same alphabet choices from G = X-tilde^T X and H = X-tilde^T X-tilde: O(N^2) per
              // neuron after two N x N products (our rewriting of P2 (9), exact in exact arithmetic)
};

struct GpfqLayerOptions {
  float soft_lambda = 0.0f;  // > 0: soft thresholding P2 (27) with this lambda
  GpfqForm form = GpfqForm::automatic;
};

struct GpfqLayerResult {
  Tensor Q;                     // [N_i, N], every entry a level of its neuron's alphabet
  bool used_gram = false;       // which form ran
  double relative_error = 0.0;  // ||X W^T - X-tilde Q^T||_F / ||X W^T||_F over the m samples
};

// W [N_i, N] (neuron = row), X and X-tilde [m, N], alphabets: one for every neuron or one per
// neuron. Throws qnn::Error on mismatched shapes.
GpfqLayerResult gpfq_layer(const Tensor& W, const Tensor& X, const Tensor& Xt, const std::vector<Alphabet>& alphabets,
                           const GpfqLayerOptions& options = {});

// ||X W^T - X-tilde Q^T||_F / ||X W^T||_F (0 when X W^T = 0 and the error is 0).
double relative_layer_error(const Tensor& W, const Tensor& Q, const Tensor& X, const Tensor& Xt);

// Soft threshold s_lambda(z) = sign(z) max{|z| - lambda, 0} (P2 section 2).
inline float soft_threshold(float z, float lambda) {
  return z > lambda ? z - lambda : (z < -lambda ? z + lambda : 0.0f);
}

}  // namespace qnn::quant
