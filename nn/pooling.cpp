#include "nn/pooling.h"

#include "core/ops/pool.h"

namespace qnn::nn {
namespace {
void check_pool_args(const char* op, int64_t kernel, int64_t stride, int64_t padding) {
  QNN_CHECK(kernel > 0 && stride >= 0 && padding >= 0 && 2 * padding <= kernel, op,
            "got kernel_size " << kernel << ", stride " << stride << ", padding " << padding
                               << " (expected kernel > 0, stride >= 0, 0 <= padding <= kernel / 2)");
}
void check_nchw(const char* op, const Tensor& x) {
  QNN_CHECK(x.dim() == 4, op, "got input " << shape_str(x.shape()) << " (expected [N, C, H, W])");
}
std::string pool_repr(int64_t k, int64_t s, int64_t p) {
  return "kernel_size=" + std::to_string(k) + ", stride=" + std::to_string(s == 0 ? k : s) +
         ", padding=" + std::to_string(p);
}
}  // namespace

MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p) : Module("MaxPool2d"), kernel_size(k), stride(s), padding(p) {
  check_pool_args("MaxPool2d", k, s, p);
}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_nchw("MaxPool2d", x);
  return max_pool2d(x, {kernel_size, kernel_size}, {stride, stride}, {padding, padding});
}

std::string MaxPool2d::extra_repr() const { return pool_repr(kernel_size, stride, padding); }

AvgPool2d::AvgPool2d(int64_t k, int64_t s, int64_t p, bool include_pad)
    : Module("AvgPool2d"), kernel_size(k), stride(s), padding(p), count_include_pad(include_pad) {
  check_pool_args("AvgPool2d", k, s, p);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_nchw("AvgPool2d", x);
  return avg_pool2d(x, {kernel_size, kernel_size}, {stride, stride}, {padding, padding}, count_include_pad);
}

std::string AvgPool2d::extra_repr() const { return pool_repr(kernel_size, stride, padding); }

AdaptiveAvgPool2d::AdaptiveAvgPool2d(std::array<int64_t, 2> size) : Module("AdaptiveAvgPool2d"), output_size(size) {
  QNN_CHECK(size[0] > 0 && size[1] > 0, "AdaptiveAvgPool2d",
            "got output_size (" << size[0] << ", " << size[1] << ") (expected sizes > 0)");
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  check_nchw("AdaptiveAvgPool2d", x);
  return adaptive_avg_pool2d(x, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  if (output_size[0] == output_size[1])
    return "output_size=" + std::to_string(output_size[0]);
  return "output_size=(" + std::to_string(output_size[0]) + ", " + std::to_string(output_size[1]) + ")";
}

}  // namespace qnn::nn
