#include "core/ops/pool.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/pool_kernels.h"
#include "core/creation.h"

namespace qnn {
namespace {

// Pooling takes [N, C, H, W] or unbatched [C, H, W]; the kernels see N * C planes.
void check_input(const char* op, const Tensor& x) {
  cpu::check_float_cpu(op, x);
  QNN_CHECK(x.dim() == 3 || x.dim() == 4, op,
            "got input of shape " << shape_str(x.shape()) << " (expected [N, C, H, W] or unbatched [C, H, W])");
  QNN_CHECK(x.size(-1) > 0 && x.size(-2) > 0, op,
            "got input of shape " << shape_str(x.shape()) << " (expected non-empty spatial dims)");
}

// Output shape: the input's leading dims, then OH, OW.
Shape pooled_shape(const Tensor& x, int64_t OH, int64_t OW) {
  Shape shape(x.shape().begin(), x.shape().end() - 2);
  shape.push_back(OH);
  shape.push_back(OW);
  return shape;
}

// Validates a window (PyTorch's rules: positive kernel and stride, padding at most half the kernel,
// at least one output) and derives the kernel geometry.
cpu::PoolShape pool_shape(const char* op, const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                          std::array<int64_t, 2> padding) {
  QNN_CHECK(kernel[0] > 0 && kernel[1] > 0, op,
            "got kernel {" << kernel[0] << ", " << kernel[1] << "} (expected positive sizes)");
  if (stride[0] == 0 && stride[1] == 0)
    stride = kernel;
  QNN_CHECK(stride[0] > 0 && stride[1] > 0, op,
            "got stride {" << stride[0] << ", " << stride[1] << "} (expected positive, or {0, 0} for the kernel)");
  QNN_CHECK(padding[0] >= 0 && padding[1] >= 0 && 2 * padding[0] <= kernel[0] && 2 * padding[1] <= kernel[1], op,
            "got padding {" << padding[0] << ", " << padding[1] << "} for kernel {" << kernel[0] << ", " << kernel[1]
                            << "} (expected 0 <= padding <= kernel / 2)");
  const int64_t H = x.size(-2), W = x.size(-1);
  const int64_t room_h = H + 2 * padding[0] - kernel[0], room_w = W + 2 * padding[1] - kernel[1];
  QNN_CHECK(room_h >= 0 && room_w >= 0, op,
            "got input of shape " << shape_str(x.shape()) << " for kernel {" << kernel[0] << ", " << kernel[1]
                                  << "} and padding {" << padding[0] << ", " << padding[1]
                                  << "} (expected the padded input to hold at least one window)");
  return {x.numel() / (H * W),
          H,
          W,
          room_h / stride[0] + 1,
          room_w / stride[1] + 1,
          kernel[0],
          kernel[1],
          stride[0],
          stride[1],
          padding[0],
          padding[1]};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding) {
  const char* op = "max_pool2d";
  check_input(op, x);
  const cpu::PoolShape s = pool_shape(op, x, kernel, stride, padding);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(pooled_shape(x, s.OH, s.OW));
  Tensor argmax = Tensor::empty(y.shape(), DType::Int32);  // the backward's only saved state
  cpu::max_pool2d_forward(xc.data<float>(), s, y.data<float>(), argmax.data<int32_t>());
  record(op, y, {x}, [argmax, s, shape = x.shape()](const Tensor& g) {
    const Tensor dy = g.contiguous();
    Tensor dx = Tensor::empty(shape);
    cpu::max_pool2d_backward(dy.data<float>(), argmax.data<int32_t>(), s, dx.data<float>());
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor avg_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding, bool count_include_pad) {
  const char* op = "avg_pool2d";
  check_input(op, x);
  const cpu::PoolShape s = pool_shape(op, x, kernel, stride, padding);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(pooled_shape(x, s.OH, s.OW));
  cpu::avg_pool2d_forward(xc.data<float>(), s, count_include_pad, y.data<float>());
  record(op, y, {x}, [s, count_include_pad, shape = x.shape()](const Tensor& g) {
    const Tensor dy = g.contiguous();
    Tensor dx = Tensor::empty(shape);
    cpu::avg_pool2d_backward(dy.data<float>(), s, count_include_pad, dx.data<float>());
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::array<int64_t, 2> output_size) {
  const char* op = "adaptive_avg_pool2d";
  check_input(op, x);
  const int64_t OH = output_size[0], OW = output_size[1];
  QNN_CHECK(OH > 0 && OW > 0, op, "got output_size {" << OH << ", " << OW << "} (expected positive sizes)");
  const int64_t H = x.size(-2), W = x.size(-1), planes = x.numel() / (H * W);
  const Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(pooled_shape(x, OH, OW));
  cpu::adaptive_avg_pool2d_forward(xc.data<float>(), planes, H, W, OH, OW, y.data<float>());
  record(op, y, {x}, [planes, H, W, OH, OW, shape = x.shape()](const Tensor& g) {
    const Tensor dy = g.contiguous();
    Tensor dx = Tensor::empty(shape);
    cpu::adaptive_avg_pool2d_backward(dy.data<float>(), planes, H, W, OH, OW, dx.data<float>());
    return std::vector<Tensor>{dx};
  });
  return y;
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, float value) {
  const char* op = "pad";
  QNN_CHECK(x.defined(), op, "got an undefined tensor");
  QNN_CHECK(x.device().is_cpu(), op, "got a tensor on " << x.device() << " (expected cpu; no CUDA kernel yet)");
  const int64_t k = static_cast<int64_t>(pads.size());
  QNN_CHECK(k % 2 == 0 && k / 2 <= x.dim(), op,
            "got " << k << " pad values for a " << x.dim() << "-d tensor (expected an even number, at most "
                   << 2 * x.dim() << ")");
  // pads[2 i], pads[2 i + 1] are the left and right pads of dimension dim - 1 - i; negative pads crop.
  // `inner` is where x lands in the output, `from` the part of x that lands there.
  Shape out_shape = x.shape();
  std::vector<int64_t> dims, out_start, in_start, lengths;
  for (int64_t i = 0; i < k / 2; ++i) {
    const int64_t d = x.dim() - 1 - i, size = x.size(d), left = pads[2 * i], right = pads[2 * i + 1];
    out_shape[d] = size + left + right;
    QNN_CHECK(out_shape[d] >= 0, op,
              "got pads {" << left << ", " << right << "} on dimension " << d << " of size " << size
                           << " (expected a non-negative padded size)");
    dims.push_back(d);
    out_start.push_back(std::max<int64_t>(left, 0));
    in_start.push_back(std::max<int64_t>(-left, 0));
    lengths.push_back(std::max<int64_t>(0, size + std::min<int64_t>(left, 0) + std::min<int64_t>(right, 0)));
  }
  // The region of x kept, in `t` (x or the output) starting at `start`.
  auto region = [dims, lengths](Tensor t, const std::vector<int64_t>& start) {
    for (size_t i = 0; i < dims.size(); ++i)
      t = t.narrow(dims[i], start[i], lengths[i]);
    return t;
  };
  Tensor out = full(out_shape, value, x.dtype());
  copy_(region(out, out_start), region(x.detach(), in_start));
  record(op, out, {x}, [region, out_start, in_start, shape = x.shape()](const Tensor& g) {
    Tensor dx = zeros(shape);
    copy_(region(dx, in_start), region(g, out_start));
    return std::vector<Tensor>{dx};
  });
  return out;
}

}  // namespace qnn
