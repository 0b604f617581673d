#pragma once
// Matrix products through OpenBLAS cblas_sgemm. Transposed operands are passed to BLAS as
// transposes, never materialized.
#include "core/tensor.h"

namespace qnn {

// torch.matmul semantics: 1-d x 1-d (dot), 2-d x 2-d, 1-d/2-d with batched, and batched x
// batched with broadcast batch dimensions.
Tensor matmul(const Tensor& a, const Tensor& b);

namespace cpu {
// C[m x n] = alpha * op(A) op(B) + beta * C, row-major; the thin wrapper every kernel uses.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
}  // namespace cpu

}  // namespace qnn
