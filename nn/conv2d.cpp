#include "nn/conv2d.h"

#include <cmath>
#include <sstream>

#include "nn/init.h"

namespace qnn::nn {

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, const Conv2dArgs& a, Generator& gen)
    : Module("Conv2d"), in_channels(in), out_channels(out), kernel_size(k), args(a) {
  QNN_CHECK(in > 0 && out > 0 && k > 0, "Conv2d",
            "got in_channels " << in << ", out_channels " << out << ", kernel_size " << k << " (expected > 0)");
  QNN_CHECK(a.stride > 0 && a.padding >= 0 && a.dilation > 0 && a.groups > 0, "Conv2d",
            "got stride " << a.stride << ", padding " << a.padding << ", dilation " << a.dilation << ", groups "
                          << a.groups << " (expected stride, dilation, groups > 0 and padding >= 0)");
  QNN_CHECK(in % a.groups == 0 && out % a.groups == 0, "Conv2d",
            "got " << in << " -> " << out << " channels in " << a.groups
                   << " groups (expected both channel counts divisible by groups)");
  weight = register_parameter("weight", Tensor::empty({out, in / a.groups, k, k}));
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (a.bias) {
    bias = register_parameter("bias", Tensor::empty({out}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(init::fan_in_and_fan_out(weight).first));
    init::uniform_(bias, -bound, bound, gen);
  }
}

Conv2dOptions Conv2d::options() const {
  Conv2dOptions o;
  o.stride = {args.stride, args.stride};
  o.padding = {args.padding, args.padding};
  o.dilation = {args.dilation, args.dilation};
  o.groups = args.groups;
  return o;
}

Tensor Conv2d::forward(const Tensor& x) {
  QNN_CHECK(x.dim() == 4 && x.size(1) == in_channels, "Conv2d",
            "got input " << shape_str(x.shape()) << " (expected [N, " << in_channels << ", H, W])");
  if (input_hook)
    input_hook(x);
  return conv2d(x, weight, bias, options());
}

std::string Conv2d::extra_repr() const {
  // Built in a stream: GCC 12 warns (-Wrestrict, falsely) on chains of std::string operator+.
  std::ostringstream s;
  auto pair = [&](int64_t v) { s << "(" << v << ", " << v << ")"; };
  s << in_channels << ", " << out_channels << ", kernel_size=";
  pair(kernel_size);
  s << ", stride=";
  pair(args.stride);
  if (args.padding != 0) {
    s << ", padding=";
    pair(args.padding);
  }
  if (args.dilation != 1) {
    s << ", dilation=";
    pair(args.dilation);
  }
  if (args.groups != 1)
    s << ", groups=" << args.groups;
  if (!bias.defined())
    s << ", bias=False";
  return s.str();
}

}  // namespace qnn::nn
