#include "datasets/dataset.h"

#include "core/error.h"

namespace qnn::data {

namespace {
// The splitmix64 finalizer: a bijection on 64 bits that spreads every input bit over the output.
uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index) {
  // Nested rather than xor-ed together, so (epoch, index) = (1, 2) and (2, 1) differ.
  return mix64(mix64(mix64(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(index));
}

Example Dataset::get(int64_t i) const {
  Generator gen(sample_seed(0, 0, i));
  return get(i, gen);
}

Subset::Subset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  QNN_CHECK(base_, "Subset", "got no base dataset");
  const int64_t n = base_->size();
  for (size_t k = 0; k < indices_.size(); ++k)
    QNN_CHECK(indices_[k] >= 0 && indices_[k] < n, "Subset",
              "got index " << indices_[k] << " at position " << k << " (expected 0 <= index < " << n << ")");
}

Example Subset::get(int64_t i, Generator& gen) const {
  QNN_CHECK(i >= 0 && i < size(), "Subset::get", "got index " << i << " (expected 0 <= index < " << size() << ")");
  return base_->get(indices_[static_cast<size_t>(i)], gen);
}

}  // namespace qnn::data
