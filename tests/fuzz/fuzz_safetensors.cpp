// load_safetensors on any bytes; what loads must save and load back identically (names, order,
// dtypes, shapes, bytes, metadata).
#include <cstring>

#include "core/io/safetensors.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

bool same_bytes(const qnn::Tensor& a, const qnn::Tensor& b) {
  const size_t n = static_cast<size_t>(a.numel()) * qnn::dtype_size(a.dtype());
  return n == 0 || std::memcmp(a.raw_data(), b.raw_data(), n) == 0;
}

}  // namespace

QNN_FUZZ_TARGET(safetensors) {
  const char* kName = "safetensors";
  const std::string in = qnn::fuzz::write_scratch("in.safetensors", data, size);
  qnn::fuzz::expect_qnn_errors_only(kName, [&] {
    const qnn::SafetensorsFile file = qnn::load_safetensors(in);
    const std::string out = qnn::fuzz::scratch_path("out.safetensors");
    qnn::save_safetensors(out, file.tensors, file.metadata);
    const qnn::SafetensorsFile again = qnn::load_safetensors(out);
    FUZZ_ASSERT(kName, again.metadata == file.metadata);
    FUZZ_ASSERT(kName, again.tensors.size() == file.tensors.size());
    for (size_t i = 0; i < file.tensors.size(); ++i) {
      const auto& [name, t] = file.tensors[i];
      const auto& [name2, t2] = again.tensors[i];
      FUZZ_ASSERT(kName, name == name2 && t.dtype() == t2.dtype() && t.shape() == t2.shape());
      FUZZ_ASSERT(kName, t.is_contiguous() || t.numel() == 0);
      FUZZ_ASSERT(kName, same_bytes(t, t2));
    }
  });
  return 0;
}
