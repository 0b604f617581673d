#pragma once
// qnn::quant::Alphabet: the finite set of values a quantized weight may take, and the rounding
// rule onto it. It is the one quantizer type of qnn: GPFQ and round-to-nearest (quant/ptq) build
// their uniform alphabets from a step size, the QAT quantizers (LSBQ, uniform; quant/quantizers)
// return their fitted target set Q as an arbitrary sorted alphabet, and a quantized model is saved
// as codes into the alphabet of each weight (quant/quantized_weights.h).
//
// Papers: [P1] and [P2] are the two versions of Zhang, Zhou, Saab, "Post-training quantization
// for neural networks with provable guarantees" (P2 = the later, "generalized GPFQ" one).
// Beware: the symbol A_K^delta is the midrise alphabet in P1 but the midtread one in P2.
#include <cstdint>
#include <string>
#include <vector>

namespace qnn::quant {

class Alphabet {
 public:
  enum class Kind {
    midtread,      // P2 (3): {k delta : |k| <= K}; 2K+1 levels including 0
    midrise,       // P1 (2): {+-(k - 1/2) delta : k = 1..K}; 2K levels, no 0
    midrise_zero,  // P1 (4): midrise plus {0}; 2K+1 levels
    thresholded,   // P2 (4): {0} u {+-(lambda + k delta) : 0 <= k <= K}; hard-threshold sparse GPFQ
    arbitrary,     // any sorted set Q (the QAT quantizers' targets)
  };

  // ---- the alphabets of the papers (K >= 1, delta > 0, lambda >= 0) ----
  static Alphabet midtread(int K, float delta);
  static Alphabet midrise(int K, float delta);
  static Alphabet midrise_zero(int K, float delta);
  static Alphabet thresholded(int K, float delta, float lambda);
  // Ternary {0, +-delta} (= midtread with K = 1) and binary {+-delta/2} (= P1 midrise, K = 1).
  static Alphabet ternary(float delta) { return midtread(1, delta); }
  static Alphabet binary(float delta) { return midrise(1, delta); }
  // Any finite set of finite values (sorted and made unique here; at least one value). Rounding
  // sends a value exactly between two levels to the LOWER one (torch.bucketize(right=False), what
  // the PARQ code's nearest-point projection does).
  static Alphabet from_levels(std::vector<float> levels);

  // Q(z) = argmin_{p in A} |z - p|, the memoryless scalar quantizer P1 (5) / P2 (5). The uniform
  // kinds use the papers' closed forms bit for bit, ties included:
  //   midtread     Q(z) = delta sign(z) min{|floor(z/delta + 1/2)|, K}        (P2 (5))
  //                so z = +delta/2 -> delta and z = -delta/2 -> 0
  //   thresholded  Q~(z) = 1{|z| > lambda} sign(z) (lambda + delta min{|floor(s_lambda(z)/delta + 1/2)|, K})   (P2 (6))
  // midrise(+0) rounds to the nearest level with ties toward +infinity, like midtread.
  float nearest(float z) const { return levels_[code(z)]; }
  // The index into levels() of nearest(z).
  int code(float z) const;
  // The index of a value that IS a level (exact float equality); -1 when it is not one.
  int index_of(float value) const;

  Kind kind() const { return kind_; }
  int K() const { return K_; }  // 0 for arbitrary alphabets
  float delta() const { return delta_; }
  float lambda() const { return lambda_; }
  const std::vector<float>& levels() const { return levels_; }  // ascending
  int size() const { return static_cast<int>(levels_.size()); }
  float max_level() const { return levels_.back(); }
  // Bits needed to store a code: ceil(log2(size())), at least 1. A "b-bit" alphabet of the GPFQ
  // papers has 2^b + 1 levels (K = 2^(b-1) in P2 (31) / P1 (17)), so it needs b + 1 bits.
  int bits_per_code() const;
  std::string describe() const;  // e.g. "midtread K=8 delta=0.0123 (17 levels)"

 private:
  Alphabet(Kind kind, int K, float delta, float lambda, std::vector<float> levels);
  Kind kind_;
  int K_;
  float delta_, lambda_;
  std::vector<float> levels_;
};

// Which family of uniform alphabet a "b-bit" layer gets in PTQ.
enum class AlphabetFamily {
  midtread,      // P2 (31): K = 2^(b-1), delta = R / K              (the default)
  midrise_zero,  // P1 (17): K = 2^(b-1), delta = 2R / (2^b - 1)     (largest level (K - 1/2) delta = R)
  ternary,       // {0, +-R}
  binary,        // {+-R}
};
AlphabetFamily alphabet_family_from_string(const std::string& name);  // "midtread", "midrise0", ...
std::string to_string(AlphabetFamily family);

// The b-bit alphabet of `family` whose largest level is the radius R (> 0). bits is ignored for
// ternary and binary. Throws qnn::Error for bits outside 1..16 or R <= 0.
Alphabet alphabet_with_radius(AlphabetFamily family, int bits, float R);

}  // namespace qnn::quant
