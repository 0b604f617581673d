#pragma once
// Raw-pointer kernels behind max_pool2d, avg_pool2d and adaptive_avg_pool2d. Tensors are
// contiguous float32 seen as `planes` independent H x W planes (N * C); threads split the planes,
// so results do not depend on the thread count.
#include <cstdint>

namespace qnn::cpu {

// A pooling window of KH x KW moved by (SH, SW) over the input padded by (PH, PW) on each side.
struct PoolShape {
  int64_t planes, H, W, OH, OW;
  int64_t KH, KW, SH, SW, PH, PW;
};

// y = the maximum over each window's in-bounds elements (the padding counts as -inf; a NaN wins,
// as in PyTorch). argmax = the winner's index within its plane (h * W + w).
void max_pool2d_forward(const float* x, const PoolShape& s, float* y, int32_t* argmax);
// dx (overwritten) = the sum of dy routed to each window's argmax.
void max_pool2d_backward(const float* dy, const int32_t* argmax, const PoolShape& s, float* dx);

// y = the sum over each window's in-bounds elements divided by KH * KW (count_include_pad), or by
// the number of in-bounds elements.
void avg_pool2d_forward(const float* x, const PoolShape& s, bool count_include_pad, float* y);
// dx (overwritten) = each window's dy / divisor spread over its in-bounds elements.
void avg_pool2d_backward(const float* dy, const PoolShape& s, bool count_include_pad, float* dx);

// Output (i, j) averages rows [floor(i * H / OH), ceil((i + 1) * H / OH)) and the columns alike.
void adaptive_avg_pool2d_forward(const float* x, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                 float* y);
void adaptive_avg_pool2d_backward(const float* dy, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                  float* dx);

}  // namespace qnn::cpu
