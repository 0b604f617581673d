#include "core/ops/conv.h"

#include <vector>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/conv_kernels.h"

namespace qnn {
namespace {

void check_pair(const char* op, const char* name, const std::array<int64_t, 2>& v, int64_t min) {
  QNN_CHECK(v[0] >= min && v[1] >= min, op,
            "got " << name << " {" << v[0] << ", " << v[1] << "} (expected values >= " << min << ")");
}

// Output size of one spatial dimension, as PyTorch computes it; 0 when the dilated kernel does
// not fit in the padded input (C++ division truncates toward zero, so test the sign first).
int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t room = in + 2 * pad - dil * (k - 1) - 1;
  return room < 0 ? 0 : room / stride + 1;
}

Tensor conv2d_batched(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  QNN_CHECK(weight.dim() == 4, op,
            "got weight of shape " << shape_str(weight.shape()) << " (expected [C_out, C_in / groups, kH, kW])");
  check_pair(op, "stride", o.stride, 1);
  check_pair(op, "padding", o.padding, 0);
  check_pair(op, "dilation", o.dilation, 1);
  const int64_t C = x.size(1), M = weight.size(0), groups = o.groups;
  QNN_CHECK(groups >= 1, op, "got groups " << groups << " (expected >= 1)");
  QNN_CHECK(C % groups == 0 && M % groups == 0, op,
            "got " << C << " input and " << M << " output channels with groups " << groups
                   << " (expected both divisible by groups)");
  QNN_CHECK(weight.size(1) * groups == C, op,
            "got input of shape " << shape_str(x.shape()) << " and weight of shape " << shape_str(weight.shape())
                                  << " with groups " << groups << " (expected weight.size(1) * groups = " << C
                                  << " input channels)");
  if (bias.defined()) {
    cpu::check_float_cpu(op, bias);
    QNN_CHECK(bias.dim() == 1 && bias.size(0) == M, op,
              "got bias of shape " << shape_str(bias.shape()) << " (expected [" << M << "])");
  }
  cpu::ConvShape s{};
  s.N = x.size(0);
  s.C = C;
  s.H = x.size(2);
  s.W = x.size(3);
  s.M = M;
  s.KH = weight.size(2);
  s.KW = weight.size(3);
  s.SH = o.stride[0];
  s.SW = o.stride[1];
  s.PH = o.padding[0];
  s.PW = o.padding[1];
  s.DH = o.dilation[0];
  s.DW = o.dilation[1];
  s.groups = groups;
  s.OH = out_size(s.H, s.KH, s.SH, s.PH, s.DH);
  s.OW = out_size(s.W, s.KW, s.SW, s.PW, s.DW);
  QNN_CHECK(s.KH >= 1 && s.KW >= 1 && s.OH >= 1 && s.OW >= 1, op,
            "got input of shape " << shape_str(x.shape()) << ", kernel " << s.KH << "x" << s.KW << ", padding {" << s.PH
                                  << ", " << s.PW << "} and dilation {" << s.DH << ", " << s.DW
                                  << "} (expected the padded input to be at least as large as the dilated kernel)");

  const Tensor xc = x.contiguous(), wc = weight.contiguous();
  const Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = Tensor::empty({s.N, M, s.OH, s.OW});
  cpu::conv2d_forward(xc.data<float>(), wc.data<float>(), bc.defined() ? bc.data<float>() : nullptr, s,
                      y.data<float>());

  const bool gx = x.requires_grad(), gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad();
  // dx needs only the weight and dw only the input: save just what the wanted gradients read.
  record(op, y, {x, weight, bias},
         [xs = gw ? xc.detach() : Tensor(), ws = gx ? wc.detach() : Tensor(), s, gx, gw, gb](const Tensor& g) {
           const Tensor dy = g.contiguous();
           Tensor dx = gx ? Tensor::empty({s.N, s.C, s.H, s.W}) : Tensor();
           Tensor dw = gw ? Tensor::empty({s.M, s.Cg(), s.KH, s.KW}) : Tensor();
           Tensor db = gb ? Tensor::empty({s.M}) : Tensor();
           cpu::conv2d_backward(gw ? xs.data<float>() : nullptr, gx ? ws.data<float>() : nullptr, dy.data<float>(), s,
                                gx ? dx.data<float>() : nullptr, gw ? dw.data<float>() : nullptr,
                                gb ? db.data<float>() : nullptr);
           return std::vector<Tensor>{dx, dw, db};
         });
  return y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& options) {
  const char* op = "conv2d";
  cpu::check_float_cpu(op, x);
  cpu::check_float_cpu(op, weight);
  QNN_CHECK(x.dim() == 3 || x.dim() == 4, op,
            "got input of shape " << shape_str(x.shape()) << " (expected [N, C, H, W] or unbatched [C, H, W])");
  if (x.dim() == 3)  // unbatched, as PyTorch accepts
    return conv2d_batched(x.unsqueeze(0), weight, bias, options).squeeze(0);
  return conv2d_batched(x, weight, bias, options);
}

}  // namespace qnn
