#include "optim/clip.h"

#include <cmath>
#include <vector>

#include "core/autograd.h"
#include "core/ops/elementwise.h"
#include "optim/update_loop.h"

namespace qnn::optim {

namespace {

constexpr int64_t kBlock = 8192;  // fixed blocks: partial sums do not depend on the thread count

// The gradient as contiguous float32 on the CPU (a copy only when it is not contiguous).
Tensor checked_grad(const Tensor& p, const char* op) {
  const Tensor g = p.grad();
  QNN_CHECK(g.dtype() == DType::Float32 && g.device().is_cpu(), op,
            "gradient " << g.dtype() << " on " << g.device() << " (expected float32 on cpu)");
  return g.is_contiguous() ? g : g.contiguous();
}

double sum_of_squares(const float* g, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  const bool parallel = n >= cpu::kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    double s = 0.0;
    const int64_t end = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < end; ++i)
      s += static_cast<double>(g[i]) * g[i];
    partial[static_cast<size_t>(b)] = s;
  }
  double total = 0.0;
  for (double s : partial)
    total += s;
  return total;
}

}  // namespace

double grad_norm(const std::vector<Tensor>& params) {
  double total = 0.0;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined())
      continue;
    const Tensor g = checked_grad(p, "grad_norm");
    total += sum_of_squares(g.data<float>(), g.numel());
  }
  return std::sqrt(total);
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, bool error_if_nonfinite) {
  QNN_CHECK(max_norm >= 0.0 && !std::isnan(max_norm), "clip_grad_norm_", "max_norm " << max_norm << " (expected >= 0)");
  const double total = grad_norm(params);
  QNN_CHECK(std::isfinite(total) || !error_if_nonfinite, "clip_grad_norm_",
            "the total gradient norm is " << total << " (expected a finite value)");
  const double coef = max_norm / (total + 1e-6);
  if (!(coef < 1.0) && std::isfinite(total))
    return total;  // nothing to scale (PyTorch multiplies by 1.0, which changes nothing)
  const float scale = static_cast<float>(coef);
  NoGradGuard no_grad;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined())
      mul_(p.grad(), scale);
  return total;
}

}  // namespace qnn::optim
