#include "core/ops/norm.h"

#include <cmath>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/norm_kernels.h"

namespace qnn {
namespace {

// An optional [shape] float32 CPU parameter (weight, bias, running stats).
void check_param(const char* op, const char* name, const Tensor& t, const Shape& shape) {
  if (!t.defined())
    return;
  QNN_CHECK(t.dtype() == DType::Float32, op, name << " has dtype " << t.dtype() << " (expected float32)");
  QNN_CHECK(t.device().is_cpu(), op, name << " is on " << t.device() << " (expected cpu; no CUDA kernel yet)");
  QNN_CHECK(t.shape() == shape, op,
            name << " has shape " << shape_str(t.shape()) << " (expected " << shape_str(shape) << ")");
}

const float* ptr_or_null(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

// running = (1 - momentum) * running + momentum * batch, on a possibly strided [C] tensor.
void update_running(const Tensor& running, const std::vector<double>& batch, float momentum) {
  float* p = running.data<float>();
  const int64_t stride = running.stride(0);
  for (size_t c = 0; c < batch.size(); ++c) {
    float& r = p[static_cast<int64_t>(c) * stride];
    r = static_cast<float>((1.0 - momentum) * r + momentum * batch[c]);
  }
}

// What the batch_norm backward needs: the statistics in double (C values) and the float centers
// the kernels subtract (the mean rounded to float).
struct BnSaved {
  std::vector<double> mean, rstd;
  std::vector<float> center;
};

// The batch_norm backward: one pass for the channel sums, one for dx.
std::vector<Tensor> batch_norm_backward(const Tensor& grad, const Tensor& x, const BnSaved& st, const Tensor& weight,
                                        bool training, bool gx, bool gw, bool gb, cpu::BnShape s) {
  const Tensor dy = grad.contiguous();
  const int64_t C = s.C;
  const float* pw = ptr_or_null(weight);
  std::vector<double> sum_dy(C, 0.0), sum_dy_xmu(C, 0.0);
  if ((gx && training) || gw || gb) {
    cpu::batch_norm_backward_sums(dy.data<float>(), x.data<float>(), s, st.center.data(), sum_dy.data(),
                                  sum_dy_xmu.data());
    for (int64_t c = 0; c < C; ++c)  // the sums were taken around center, not mean
      sum_dy_xmu[c] -= (st.mean[c] - st.center[c]) * sum_dy[c];
  }
  Tensor dw = gw ? Tensor::empty({C}) : Tensor(), db = gb ? Tensor::empty({C}) : Tensor();
  for (int64_t c = 0; c < C; ++c) {
    if (gw)
      dw.data<float>()[c] = static_cast<float>(sum_dy_xmu[c] * st.rstd[c]);  // sum of dy * xhat
    if (gb)
      db.data<float>()[c] = static_cast<float>(sum_dy[c]);
  }
  Tensor dx;
  if (gx) {
    // dx = k * (dy - sum_dy / M - xhat * sum(dy * xhat) / M) with k = w * rstd; in eval the batch
    // terms vanish (the statistics are constants). Written as a * dy + b * (x - center) + d.
    std::vector<float> a(C), b(C, 0.0f), d(C, 0.0f);
    const double M = static_cast<double>(s.count());
    for (int64_t c = 0; c < C; ++c) {
      const double r = st.rstd[c], k = (pw ? pw[c] : 1.0) * r;
      a[c] = static_cast<float>(k);
      if (training) {
        const double u = k * r * (sum_dy_xmu[c] * r) / M;  // coefficient of (x - mean)
        b[c] = static_cast<float>(-u);
        d[c] = static_cast<float>(-k * sum_dy[c] / M + u * (st.mean[c] - st.center[c]));
      }
    }
    dx = Tensor::empty(x.shape());
    cpu::batch_norm_backward_dx(dy.data<float>(), x.data<float>(), s, st.center.data(), a.data(), b.data(), d.data(),
                                dx.data<float>());
  }
  return {dx, dw, db};
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, float momentum, float eps) {
  const char* op = "batch_norm";
  cpu::check_float_cpu(op, x);
  QNN_CHECK(x.dim() >= 2, op, "got input of shape " << shape_str(x.shape()) << " (expected [N, C, *])");
  const int64_t N = x.size(0), C = x.size(1);
  check_param(op, "weight", weight, {C});
  check_param(op, "bias", bias, {C});
  check_param(op, "running_mean", running_mean, {C});
  check_param(op, "running_var", running_var, {C});
  QNN_CHECK(running_mean.defined() == running_var.defined(), op,
            "got only one of running_mean and running_var (expected both or neither)");
  QNN_CHECK(training || running_mean.defined(), op,
            "eval mode got no running_mean/running_var (expected running statistics, or training=true)");
  QNN_CHECK(!(training && running_mean.defined() && grad_enabled() &&
              (running_mean.requires_grad() || running_var.requires_grad())),
            op, "got running statistics that require grad (expected buffers without grad)");
  QNN_CHECK(eps >= 0.0f, op, "got eps " << eps << " (expected >= 0)");
  const cpu::BnShape s{N, C, C > 0 && N > 0 ? x.numel() / (N * C) : 0};
  QNN_CHECK(!training || s.count() > 1, op,
            "got input of shape " << shape_str(x.shape()) << " in training (expected more than 1 value per channel)");

  const Tensor xc = x.contiguous();
  std::vector<double> mean(C), var(C);
  if (training) {
    cpu::batch_norm_stats(xc.data<float>(), s, mean.data(), var.data());
    if (running_mean.defined()) {
      update_running(running_mean, mean, momentum);
      std::vector<double> unbiased(C);
      const double M = static_cast<double>(s.count());
      for (int64_t c = 0; c < C; ++c)
        unbiased[c] = var[c] * M / (M - 1.0);
      update_running(running_var, unbiased, momentum);
    }
  } else {  // snapshot the running statistics: the backward must see the values used here
    const std::vector<float> rm = running_mean.to_vector<float>(), rv = running_var.to_vector<float>();
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = rm[c];
      var[c] = rv[c];
    }
  }
  auto st = std::make_shared<BnSaved>();
  st->mean = mean;
  st->rstd.resize(C);
  st->center.resize(C);
  for (int64_t c = 0; c < C; ++c) {
    st->rstd[c] = 1.0 / std::sqrt(var[c] + static_cast<double>(eps));
    st->center[c] = static_cast<float>(mean[c]);
  }

  // y = (x - center) * scale + shift with scale = w * rstd, shift = b - (mean - center) * scale.
  const Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; ++c) {
    const double k = (wc.defined() ? wc.data<float>()[c] : 1.0) * st->rstd[c];
    scale[c] = static_cast<float>(k);
    shift[c] = static_cast<float>((bc.defined() ? bc.data<float>()[c] : 0.0) - (mean[c] - st->center[c]) * k);
  }
  Tensor y = Tensor::empty(x.shape());
  cpu::batch_norm_apply(xc.data<float>(), s, st->center.data(), scale.data(), shift.data(), y.data<float>());

  const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
             gb = bias.defined() && bias.requires_grad();
  record(op, y, {x, weight, bias},
         [xs = xc.detach(), st, w = wc.defined() ? wc.detach() : Tensor(), training, gx, gw, gb, s](const Tensor& g) {
           return batch_norm_backward(g, xs, *st, w, training, gx, gw, gb, s);
         });
  return y;
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight, const Tensor& bias, float eps) {
  const char* op = "layer_norm";
  cpu::check_float_cpu(op, x);
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool trailing = k >= 1 && k <= x.dim();
  for (int64_t i = 0; trailing && i < k; ++i)
    trailing = x.size(x.dim() - k + i) == normalized_shape[i];
  QNN_CHECK(trailing, op,
            "got input of shape " << shape_str(x.shape()) << " and normalized_shape " << shape_str(normalized_shape)
                                  << " (expected a non-empty normalized_shape equal to the input's trailing dims)");
  check_param(op, "weight", weight, normalized_shape);
  check_param(op, "bias", bias, normalized_shape);
  QNN_CHECK(eps >= 0.0f, op, "got eps " << eps << " (expected >= 0)");
  const int64_t D = numel_of(normalized_shape);
  QNN_CHECK(D > 0, op, "got normalized_shape " << shape_str(normalized_shape) << " (expected no zero sizes)");
  const int64_t R = x.numel() / D;

  const Tensor xc = x.contiguous();
  const Tensor wc = weight.defined() ? weight.contiguous() : Tensor();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty(x.shape()), mean = Tensor::empty({R}), rstd = Tensor::empty({R});
  cpu::layer_norm_forward(xc.data<float>(), R, D, ptr_or_null(wc), ptr_or_null(bc), eps, y.data<float>(),
                          mean.data<float>(), rstd.data<float>());

  const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
             gb = bias.defined() && bias.requires_grad();
  record(op, y, {x, weight, bias},
         [xs = xc.detach(), mean, rstd, w = wc.defined() ? wc.detach() : Tensor(), R, D, gx, gw, gb,
          ns = normalized_shape](const Tensor& g) {
           const Tensor dy = g.contiguous();
           Tensor dx = gx ? Tensor::empty(xs.shape()) : Tensor();
           Tensor dw = gw ? Tensor::empty(ns) : Tensor();
           Tensor db = gb ? Tensor::empty(ns) : Tensor();
           cpu::layer_norm_backward(dy.data<float>(), xs.data<float>(), R, D, mean.data<float>(), rstd.data<float>(),
                                    ptr_or_null(w), gx ? dx.data<float>() : nullptr, gw ? dw.data<float>() : nullptr,
                                    gb ? db.data<float>() : nullptr);
           return std::vector<Tensor>{dx, dw, db};
         });
  return y;
}

}  // namespace qnn
