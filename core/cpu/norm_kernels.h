#pragma once
// Raw-pointer kernels behind batch_norm and layer_norm. Every array is contiguous float32 unless
// said otherwise; statistics are combined in double so large means keep their precision. Results
// do not depend on the thread count: partial sums have a fixed partitioning and a fixed
// combination order.
#include <cstdint>

namespace qnn::cpu {

// x viewed as [N, C, HW]: N samples, C channels, HW = product of the trailing dims (1 for [N, C]).
struct BnShape {
  int64_t N, C, HW;
  int64_t count() const { return N * HW; }  // elements per channel
};

// Batch statistics per channel: mean and biased variance (two-pass per plane, then combined).
void batch_norm_stats(const float* x, BnShape s, double* mean, double* var);

// y = (x - center[c]) * scale[c] + shift[c]. Subtracting a center near the mean first keeps
// precision when |mean| >> std (x * scale + shift would cancel two large terms).
void batch_norm_apply(const float* x, BnShape s, const float* center, const float* scale, const float* shift, float* y);

// Per channel: sum_dy[c] = sum of dy, sum_dy_xmu[c] = sum of dy * (x - mean[c]).
void batch_norm_backward_sums(const float* dy, const float* x, BnShape s, const float* mean, double* sum_dy,
                              double* sum_dy_xmu);

// dx = a[c] * dy + b[c] * (x - center[c]) + d[c] (the input gradient once the sums are known).
void batch_norm_backward_dx(const float* dy, const float* x, BnShape s, const float* center, const float* a,
                            const float* b, const float* d, float* dx);

// x [R, D]: each row normalized over its D elements. weight/bias [D] may be null. Writes y and the
// per-row mean and rstd = 1 / sqrt(var + eps) that the backward needs.
void layer_norm_forward(const float* x, int64_t R, int64_t D, const float* weight, const float* bias, float eps,
                        float* y, float* mean, float* rstd);

// Gradients of layer_norm_forward. dx, dweight, dbias may each be null (not needed); weight may be
// null (no affine).
void layer_norm_backward(const float* dy, const float* x, int64_t R, int64_t D, const float* mean, const float* rstd,
                         const float* weight, float* dx, float* dweight, float* dbias);

}  // namespace qnn::cpu
