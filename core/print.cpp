// Printing tensors as PyTorch does: nested brackets, 4 decimals (or scientific notation for very
// large/small magnitudes), and "..." eliding the middle of long dimensions when the tensor has
// more than 1000 elements.
#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/autograd.h"
#include "core/dispatch.h"
#include "core/tensor.h"

namespace qnn {
namespace {

constexpr int64_t kEdgeItems = 3;
constexpr int64_t kSummarizeAbove = 1000;

struct Printer {
  std::ostream& os;
  const std::vector<double>& values;
  const Shape& shape;
  bool integer;
  bool scientific;
  bool summarize;
  int width;

  std::string format(double v) const {
    std::ostringstream s;
    if (integer)
      s << static_cast<int64_t>(v);
    else if (scientific)
      s << std::scientific << std::setprecision(4) << v;
    else
      s << std::fixed << std::setprecision(4) << v;
    return s.str();
  }

  void print(int64_t dim, int64_t offset, int indent) const {
    const int64_t n = shape[dim];
    const bool last_dim = dim + 1 == static_cast<int64_t>(shape.size());
    int64_t inner = 1;
    for (size_t d = dim + 1; d < shape.size(); ++d)
      inner *= shape[d];
    // Between rows of an outer dim: a comma, one newline per inner dim, then the indentation.
    const auto row_break = [&] {
      os << ',';
      for (size_t k = dim + 1; k < shape.size(); ++k)
        os << '\n';
      for (int k = 0; k <= indent; ++k)
        os << ' ';
    };
    os << '[';
    for (int64_t i = 0; i < n; ++i) {
      if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
        os << "...";
        last_dim ? void(os << ", ") : row_break();
        i = n - kEdgeItems - 1;
        continue;
      }
      if (last_dim)
        os << std::setw(width) << format(values[offset + i]);
      else
        print(dim + 1, offset + i * inner, indent + 1);
      if (i + 1 < n)
        last_dim ? void(os << ", ") : row_break();
    }
    os << ']';
  }
};

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined())
    return os << "tensor(undefined)";
  Tensor c = t.to(Device::cpu()).contiguous();
  std::vector<double> values(c.numel());
  dispatch_dtype(c.dtype(), [&]<class T>() {
    const T* p = c.data<T>();
    for (int64_t i = 0; i < c.numel(); ++i)
      values[i] = static_cast<double>(p[i]);
  });
  const bool integer = c.dtype() != DType::Float32;
  double max_abs = 0.0, min_abs = INFINITY;
  for (double v : values)
    if (std::isfinite(v) && v != 0.0) {
      max_abs = std::max(max_abs, std::abs(v));
      min_abs = std::min(min_abs, std::abs(v));
    }
  const bool scientific =
      !integer && (max_abs >= 1e8 || (min_abs < 1e-4 && max_abs > 0) || max_abs / min_abs > 1e3 * 1e3);
  Printer printer{os, values, c.shape(), integer, scientific, c.numel() > kSummarizeAbove, 0};
  for (double v : values)
    printer.width = std::max<int>(printer.width, static_cast<int>(printer.format(v).size()));
  os << "tensor(";
  if (c.dim() == 0)
    os << printer.format(values[0]);
  else
    printer.print(0, 0, 7);
  if (integer || t.numel() == 0)
    os << ", dtype=" << t.dtype();
  if (!t.device().is_cpu())
    os << ", device='" << t.device() << "'";
  if (t.requires_grad())
    os << (t.grad_fn() ? ", grad_fn=<" + t.grad_fn()->op + ">" : ", requires_grad=True");
  return os << ')';
}

}  // namespace qnn
