#include "quant/ptq/gpfq_layer.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/ops.h"
#include "core/shape.h"

namespace qnn::quant {

namespace {

struct LayerView {
  int64_t neurons, N, m;
  const float* W;
  const std::vector<Alphabet>* alphabets;
  float soft_lambda;
  const Alphabet& alphabet(int64_t j) const { return (*alphabets)[alphabets->size() == 1 ? 0 : j]; }
  // q_t from alpha_t: P2 (9), or P2 (27) with soft thresholding.
  float quantize(int64_t j, double alpha) const {
    const float a = static_cast<float>(alpha);
    return alphabet(j).nearest(soft_lambda > 0 ? soft_threshold(a, soft_lambda) : a);
  }
};

// The recursion P2 (8)-(9) for all neurons, with the layer's columns X_t and X-tilde_t contiguous
// (XT, XtT: [N, m]). Neurons go in blocks so each column is read once per block.
void gpfq_direct(const LayerView& L, const float* XT, const float* XtT, float* Q) {
  std::vector<double> norm2(L.N);  // ||X-tilde_t||^2
  for (int64_t t = 0; t < L.N; ++t) {
    double s = 0;
    const float* xt = XtT + t * L.m;
    for (int64_t i = 0; i < L.m; ++i)
      s += static_cast<double>(xt[i]) * xt[i];
    norm2[t] = s;
  }
  constexpr int64_t kBlock = 4;
#pragma omp parallel for schedule(dynamic)
  for (int64_t first = 0; first < L.neurons; first += kBlock) {
    const int64_t count = std::min(kBlock, L.neurons - first);
    std::vector<float> U(count * L.m, 0.0f);  // u of each neuron of the block, u_0 = 0
    for (int64_t t = 0; t < L.N; ++t) {
      const float* X_t = XT + t * L.m;
      const float* Xt_t = XtT + t * L.m;
      for (int64_t b = 0; b < count; ++b) {
        const int64_t j = first + b;
        float* u = U.data() + b * L.m;
        const float w_t = L.W[j * L.N + t];
        // u <- u_{t-1} + w_t X_t, and <X-tilde_t, u> on the way.
        double dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t i = 0; i < L.m; ++i) {
          u[i] += w_t * X_t[i];
          dot += static_cast<double>(Xt_t[i]) * u[i];
        }
        const double alpha_t = norm2[t] > 0 ? dot / norm2[t] : 0.0;  // dead column: alpha = 0
        const float q_t = L.quantize(j, alpha_t);
        Q[j * L.N + t] = q_t;
        if (q_t != 0.0f) {  // u_t = u_{t-1} + w_t X_t - q_t X-tilde_t
#pragma omp simd
          for (int64_t i = 0; i < L.m; ++i)
            u[i] -= q_t * Xt_t[i];
        }
      }
    }
  }
}

// The same choices from inner products only: with G = X-tilde^T X and H = X-tilde^T X-tilde,
//   alpha_t = ( sum_{j<=t} w_j G_tj - sum_{j<t} q_j H_tj ) / H_tt,
// which is <X-tilde_t, u_{t-1} + w_t X_t> / ||X-tilde_t||^2 expanded with u_{t-1} = sum_{j<t}
// (w_j X_j - q_j X-tilde_j).
void gpfq_gram(const LayerView& L, const float* X, const float* Xt, float* Q) {
  std::vector<float> G(L.N * L.N), H(L.N * L.N);
  const int n = static_cast<int>(L.N), m = static_cast<int>(L.m);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, m, 1.0f, Xt, n, X, n, 0.0f, G.data(), n);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, m, 1.0f, Xt, n, Xt, n, 0.0f, H.data(), n);
#pragma omp parallel for schedule(dynamic)
  for (int64_t j = 0; j < L.neurons; ++j) {
    const float* w = L.W + j * L.N;
    float* q = Q + j * L.N;
    for (int64_t t = 0; t < L.N; ++t) {
      const float* G_t = G.data() + t * L.N;
      const float* H_t = H.data() + t * L.N;
      double s = static_cast<double>(w[t]) * G_t[t];
      for (int64_t i = 0; i < t; ++i)
        s += static_cast<double>(w[i]) * G_t[i] - static_cast<double>(q[i]) * H_t[i];
      const double alpha_t = H_t[t] > 0 ? s / H_t[t] : 0.0;
      q[t] = L.quantize(j, alpha_t);
    }
  }
}

bool gram_is_cheaper(int64_t neurons, int64_t N, int64_t m) {
  // direct: ~3 neurons N m multiply-adds in our loops; gram: 2 N^2 m in sgemm (several times
  // faster per flop than the recursion's dependent loops) plus neurons N^2.
  if (N * N > (int64_t{1} << 26))
    return false;  // G and H would take more than 2 x 256 MiB
  const double direct = 3.0 * neurons * N * m;
  const double gram = 2.0 * N * N * m / 6.0 + static_cast<double>(neurons) * N * N;
  return gram < direct;
}

}  // namespace

GpfqLayerResult gpfq_layer(const Tensor& W, const Tensor& X, const Tensor& Xt, const std::vector<Alphabet>& alphabets,
                           const GpfqLayerOptions& options) {
  const char* op = "gpfq_layer";
  QNN_CHECK(W.dim() == 2 && X.dim() == 2 && Xt.dim() == 2 && X.shape() == Xt.shape() && X.size(1) == W.size(1), op,
            "got W " << shape_str(W.shape()) << ", X " << shape_str(X.shape()) << ", X-tilde " << shape_str(Xt.shape())
                     << " (expected W [N_i, N], X and X-tilde [m, N])");
  QNN_CHECK(X.size(0) > 0, op, "got no calibration rows (expected m > 0)");
  QNN_CHECK(alphabets.size() == 1 || static_cast<int64_t>(alphabets.size()) == W.size(0), op,
            "got " << alphabets.size() << " alphabets for " << W.size(0) << " neurons (expected 1 or one per neuron)");
  QNN_CHECK(options.soft_lambda >= 0, op, "got lambda = " << options.soft_lambda << " (expected >= 0)");
  const Tensor w = W.contiguous().to(DType::Float32), x = X.contiguous(), xt = Xt.contiguous();
  LayerView L{w.size(0), w.size(1), x.size(0), w.data<float>(), &alphabets, options.soft_lambda};
  GpfqLayerResult result;
  result.Q = Tensor::empty({L.neurons, L.N});
  result.used_gram =
      options.form == GpfqForm::gram || (options.form == GpfqForm::automatic && gram_is_cheaper(L.neurons, L.N, L.m));
  if (result.used_gram) {
    gpfq_gram(L, x.data<float>(), xt.data<float>(), result.Q.data<float>());
  } else {
    const Tensor XT = x.t().contiguous(), XtT = xt.t().contiguous();
    gpfq_direct(L, XT.data<float>(), XtT.data<float>(), result.Q.data<float>());
  }
  result.relative_error = relative_layer_error(w, result.Q, x, xt);
  return result;
}

double relative_layer_error(const Tensor& W, const Tensor& Q, const Tensor& X, const Tensor& Xt) {
  NoGradGuard no_grad;
  const Tensor analog = matmul(X, W.t()), quantized = matmul(Xt, Q.t());
  const float* a = analog.data<float>();
  const float* b = quantized.data<float>();
  double err = 0, ref = 0;
  for (int64_t i = 0; i < analog.numel(); ++i) {
    err += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    ref += static_cast<double>(a[i]) * a[i];
  }
  if (ref == 0)
    return err == 0 ? 0.0 : INFINITY;
  return std::sqrt(err / ref);
}

}  // namespace qnn::quant
