#include "core/ops/linalg.h"

#include <cblas.h>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/ops/reduce.h"

namespace qnn {

namespace cpu {
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}
}  // namespace cpu

namespace {

// How a 2-d matrix (the last two dims of a batched operand) is handed to BLAS: row-major with a
// leading dimension, or transposed; anything else is copied to contiguous first.
struct BlasMatrix {
  Tensor t;  // possibly a contiguous copy
  bool trans = false;
  int64_t ld = 0;
};

BlasMatrix as_blas(const Tensor& x) {
  const int64_t r = x.dim() - 2, c = x.dim() - 1;
  const int64_t rows = x.shape()[r], cols = x.shape()[c];
  const int64_t sr = x.strides()[r], sc = x.strides()[c];
  if ((sc == 1 || cols == 1) && sr >= std::max<int64_t>(cols, 1))
    return {x, false, sr};
  if ((sr == 1 || rows == 1) && sc >= std::max<int64_t>(rows, 1))
    return {x, true, sc};
  Tensor copy = x.contiguous();
  return {copy, false, std::max<int64_t>(cols, 1)};
}

// Batched product of 2-d-or-more operands with equal batch shape (already broadcast, possibly
// by stride-0 views).
Tensor batched_matmul(const Tensor& a, const Tensor& b) {
  const int64_t m = a.shape()[a.dim() - 2], k = a.shape()[a.dim() - 1], n = b.shape()[b.dim() - 1];
  Shape batch(a.shape().begin(), a.shape().end() - 2);
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape, DType::Float32, a.device());
  const BlasMatrix A = as_blas(a), B = as_blas(b);
  const int64_t batches = numel_of(batch);
  const float* pa = static_cast<const float*>(A.t.storage()->data());
  const float* pb = static_cast<const float*>(B.t.storage()->data());
  float* pc = out.data<float>();
  auto batch_offset = [&](const Tensor& t, int64_t index) {
    int64_t off = t.offset();
    for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
      off += (index % batch[d]) * t.strides()[d];
      index /= batch[d];
    }
    return off;
  };
  if (k == 0) {
    std::fill(pc, pc + out.numel(), 0.0f);
    return out;
  }
  // Small matrices: one BLAS call per thread (BLAS runs single-threaded inside the parallel
  // region). Large ones: one call at a time, BLAS threads itself.
  const bool parallel_batches = batches > 1 && m * n * k < (1 << 21);
#pragma omp parallel for schedule(static) if (parallel_batches)
  for (int64_t i = 0; i < batches; ++i)
    cpu::sgemm(A.trans, B.trans, m, n, k, 1.0f, pa + batch_offset(A.t, i), A.ld, pb + batch_offset(B.t, i), B.ld, 0.0f,
               pc + i * m * n, n);
  return out;
}

Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  const int64_t ka = a.shape().back(), kb = b.shape()[b.dim() - 2];
  QNN_CHECK(ka == kb, "matmul",
            "got shapes " << shape_str(a.shape()) << " and " << shape_str(b.shape())
                          << " (expected a's last dim to equal b's second-to-last dim)");
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), a.shape().end() - 2, a.shape().end());
  eb.insert(eb.end(), b.shape().end() - 2, b.shape().end());
  Tensor out = batched_matmul(a.expand(ea).detach(), b.expand(eb).detach());
  const bool ga = a.requires_grad(), gb = b.requires_grad();
  // dA = dC B^T, dB = A^T dC (summed over broadcast batch dims)
  record("matmul", out, {a, b}, [a = a.detach(), b = b.detach(), ga, gb](const Tensor& g) {
    return std::vector<Tensor>{ga ? sum_to(matmul(g, b.transpose(-1, -2)), a.shape()) : Tensor(),
                               gb ? sum_to(matmul(a.transpose(-1, -2), g), b.shape()) : Tensor()};
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  cpu::check_float_cpu("matmul", a);
  cpu::check_float_cpu("matmul", b);
  cpu::check_same_device("matmul", a, b);
  QNN_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul",
            "got shapes " << shape_str(a.shape()) << " and " << shape_str(b.shape()) << " (expected at least 1-d)");
  // 1-d operands become matrices (a row on the left, a column on the right), then are squeezed.
  if (a.dim() == 1 && b.dim() == 1)
    return matmul_nd(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1)
    return matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1)
    return matmul_nd(a, b.unsqueeze(1)).squeeze(-1);
  return matmul_nd(a, b);
}

}  // namespace qnn
