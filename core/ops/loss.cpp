#include "core/ops/loss.h"

#include <cmath>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/softmax_kernels.h"
#include "core/creation.h"

namespace qnn {
namespace {

// x seen as [outer, K, inner] around `dim` (a 0-d tensor is one row of one element).
cpu::SoftmaxShape softmax_shape(const Shape& shape, int64_t d) {
  cpu::SoftmaxShape s{1, shape.empty() ? 1 : shape[d], 1};
  for (int64_t i = 0; i < d; ++i)
    s.outer *= shape[i];
  for (size_t i = static_cast<size_t>(d) + 1; i < shape.size(); ++i)
    s.inner *= shape[i];
  return s;
}

// softmax and log_softmax share everything but the kernel's `log` flag. The backward needs only
// the output y: softmax' = y (dy - <dy, y>), log_softmax' = dy - exp(y) sum(dy).
Tensor softmax_impl(const char* op, const Tensor& x, int64_t dim, bool log) {
  cpu::check_float_cpu(op, x);
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const cpu::SoftmaxShape s = softmax_shape(x.shape(), d);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(x.shape());
  if (y.numel() > 0)
    cpu::softmax_forward(xc.data<float>(), s, log, y.data<float>());
  record(op, y, {x}, [ys = y.detach(), s, log](const Tensor& g) {
    const Tensor dy = g.contiguous();
    Tensor dx = Tensor::empty(ys.shape());
    if (dx.numel() > 0)
      cpu::softmax_backward(ys.data<float>(), dy.data<float>(), s, log, dx.data<float>());
    return std::vector<Tensor>{dx};
  });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl("log_softmax", x, dim, true); }

// loss_n = -sum_c q'_nc log_softmax(z_n)_c with q' = (1 - eps) q + eps / C, where q is one-hot of
// the class target or the given probabilities; then the mean over n, the sum, or none.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, float label_smoothing) {
  const char* op = "cross_entropy";
  cpu::check_float_cpu(op, logits);
  QNN_CHECK(logits.dim() == 2, op, "got logits of shape " << shape_str(logits.shape()) << " (expected [N, C])");
  const int64_t N = logits.size(0), C = logits.size(1);
  QNN_CHECK(C > 0, op, "got logits of shape " << shape_str(logits.shape()) << " (expected at least one class)");
  QNN_CHECK(target.defined(), op, "got an undefined target");
  QNN_CHECK(target.device().is_cpu(), op, "got a target on " << target.device() << " (expected cpu)");
  QNN_CHECK(label_smoothing >= 0.0f && label_smoothing <= 1.0f, op,
            "got label_smoothing " << label_smoothing << " (expected in [0, 1])");
  const bool soft = target.dtype() == DType::Float32;
  QNN_CHECK(soft || target.dtype() == DType::Int64, op,
            "got a target of dtype " << target.dtype() << " (expected int64 class indices or float32 probabilities)");
  if (soft) {
    QNN_CHECK(target.shape() == logits.shape(), op,
              "got float32 target of shape " << shape_str(target.shape()) << " for logits " << shape_str(logits.shape())
                                             << " (expected the logits' shape [N, C])");
  } else {
    QNN_CHECK(target.shape() == Shape{N}, op,
              "got int64 target of shape " << shape_str(target.shape()) << " for logits " << shape_str(logits.shape())
                                           << " (expected [" << N << "])");
  }
  const Tensor z = logits.contiguous(), t = target.contiguous();
  if (!soft) {
    const int64_t* pt = t.data<int64_t>();
    for (int64_t n = 0; n < N; ++n)
      QNN_CHECK(pt[n] >= 0 && pt[n] < C, op,
                "got target " << pt[n] << " at row " << n << " (expected a class in [0, " << C << "))");
  }
  const int64_t* hard = soft ? nullptr : t.data<int64_t>();
  const float* probs = soft ? t.data<float>() : nullptr;

  Tensor losses = Tensor::empty({N});
  auto stats = std::make_shared<std::vector<float>>(2 * N);  // row max, then log-sum-exp offsets
  cpu::cross_entropy_forward(z.data<float>(), N, C, hard, probs, label_smoothing, losses.data<float>(), stats->data(),
                             stats->data() + N);
  Tensor out = losses;
  if (reduction != Reduction::None) {
    double total = 0.0;  // in row order: the same result with any thread count
    const float* pl = losses.data<float>();
    for (int64_t n = 0; n < N; ++n)
      total += pl[n];
    if (reduction == Reduction::Mean)
      total /= static_cast<double>(N);  // N = 0 gives NaN, as torch
    out = scalar_tensor(static_cast<float>(total));
  }
  const bool gz = logits.requires_grad(), gt = soft && target.requires_grad();
  record(op, out, {logits, target},
         [zs = z.detach(), ts = t.detach(), stats, reduction, label_smoothing, soft, N, C, gz, gt](const Tensor& g) {
           // Each row's weight: g for Sum, g / N for Mean, g[n] for None.
           const Tensor gc = g.contiguous();
           const float* gw = gc.data<float>();
           int64_t stride = 1;
           float scale = 0.0f;
           if (reduction != Reduction::None) {
             scale = reduction == Reduction::Mean ? static_cast<float>(gw[0] / static_cast<double>(N)) : gw[0];
             gw = &scale;
             stride = 0;
           }
           Tensor dz = gz ? Tensor::empty({N, C}) : Tensor(), dt = gt ? Tensor::empty({N, C}) : Tensor();
           cpu::cross_entropy_backward(zs.data<float>(), N, C, soft ? nullptr : ts.data<int64_t>(),
                                       soft ? ts.data<float>() : nullptr, label_smoothing, stats->data(),
                                       stats->data() + N, gw, stride, gz ? dz.data<float>() : nullptr,
                                       gt ? dt.data<float>() : nullptr);
           return std::vector<Tensor>{dz, dt};
         });
  return out;
}

}  // namespace qnn
