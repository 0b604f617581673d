// load_quantized (quant/quantized_weights.h) on any bytes: a safetensors file whose metadata says
// how codes and levels decode. What loads must save back with save_quantized and load the same
// values (a level -0.0 may come back as 0.0: an alphabet holds one zero).
#include <cstring>

#include "quant/quantized_weights.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

bool same_values(const qnn::Tensor& a, const qnn::Tensor& b) {
  const qnn::Tensor x = a.contiguous(), y = b.contiguous();
  if (x.dtype() == qnn::DType::Float32) {
    const float *p = x.data<float>(), *q = y.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!(p[i] == q[i] || std::memcmp(p + i, q + i, sizeof(float)) == 0))
        return false;
    return true;
  }
  const size_t n = static_cast<size_t>(x.numel()) * qnn::dtype_size(x.dtype());
  return n == 0 || std::memcmp(x.raw_data(), y.raw_data(), n) == 0;
}

}  // namespace

QNN_FUZZ_TARGET(quantized) {
  const char* kName = "quantized";
  const std::string in = qnn::fuzz::write_scratch("in.safetensors", data, size);
  qnn::fuzz::expect_qnn_errors_only(kName, [&] {
    const qnn::quant::QuantizedFile file = qnn::quant::load_quantized(in);
    const std::string out = qnn::fuzz::scratch_path("out.safetensors");
    qnn::quant::save_quantized(out, file.state, file.quantized, file.metadata);
    const qnn::quant::QuantizedFile again = qnn::quant::load_quantized(out);
    FUZZ_ASSERT(kName, again.state.size() == file.state.size());
    FUZZ_ASSERT(kName, again.quantized.size() == file.quantized.size());
    for (size_t i = 0; i < file.state.size(); ++i) {
      const auto& [name, t] = file.state[i];
      const auto& [name2, t2] = again.state[i];
      FUZZ_ASSERT(kName, name == name2 && t.dtype() == t2.dtype() && t.shape() == t2.shape());
      FUZZ_ASSERT(kName, same_values(t, t2));
    }
  });
  return 0;
}
