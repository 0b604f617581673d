#pragma once
// The one seeded random source. Every random op takes a Generator (default: the global one, set
// with manual_seed), so one seed drives every random stream and a run is reproducible on CPU.
// The streams are our own (splitmix64 seeding a xoshiro256** state, Box-Muller normals), so the
// numbers do not depend on the standard library's distributions.
#include <cstdint>

namespace qnn {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { this->seed(seed); }
  void seed(uint64_t seed);
  uint64_t initial_seed() const { return initial_seed_; }

  uint64_t next_u64();
  float uniform();                             // [0, 1)
  float normal();                              // N(0, 1)
  int64_t integer(int64_t low, int64_t high);  // [low, high)

  // Jumps to an independent stream derived from this one (for worker threads).
  Generator fork();

 private:
  uint64_t state_[4];
  uint64_t initial_seed_ = 0;
  bool has_spare_ = false;
  float spare_ = 0.0f;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace qnn
