#include "quant/quantizers/alphabet.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace qnn::quant {

namespace {

void check_uniform(const char* op, int K, float delta) {
  QNN_CHECK(K >= 1 && K <= (1 << 15), op, "got K = " << K << " (expected 1 <= K <= 32768)");
  QNN_CHECK(std::isfinite(delta) && delta > 0, op, "got delta = " << delta << " (expected a finite delta > 0)");
}

// Index of the nearest level by the midpoints between neighbours: the number of midpoints below z
// (ties_up = false: a z exactly on a midpoint counts as below it, i.e. goes to the lower level).
int nearest_by_midpoints(const std::vector<float>& levels, float z, bool ties_up) {
  int lo = 0, hi = static_cast<int>(levels.size()) - 1;  // answer in [lo, hi]
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    const float midpoint = 0.5f * (levels[mid] + levels[mid + 1]);
    const bool above = ties_up ? z >= midpoint : z > midpoint;
    if (above)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

}  // namespace

Alphabet::Alphabet(Kind kind, int K, float delta, float lambda, std::vector<float> levels)
    : kind_(kind), K_(K), delta_(delta), lambda_(lambda), levels_(std::move(levels)) {}

Alphabet Alphabet::midtread(int K, float delta) {
  check_uniform("Alphabet::midtread", K, delta);
  std::vector<float> levels;
  for (int k = -K; k <= K; ++k)
    levels.push_back(static_cast<float>(k) * delta);
  return Alphabet(Kind::midtread, K, delta, 0.0f, std::move(levels));
}

Alphabet Alphabet::midrise(int K, float delta) {
  check_uniform("Alphabet::midrise", K, delta);
  std::vector<float> levels;
  for (int j = -K; j < K; ++j)
    levels.push_back((static_cast<float>(j) + 0.5f) * delta);
  return Alphabet(Kind::midrise, K, delta, 0.0f, std::move(levels));
}

Alphabet Alphabet::midrise_zero(int K, float delta) {
  check_uniform("Alphabet::midrise_zero", K, delta);
  std::vector<float> levels;
  for (int j = -K; j < K; ++j) {
    if (j == 0)
      levels.push_back(0.0f);
    levels.push_back((static_cast<float>(j) + 0.5f) * delta);
  }
  return Alphabet(Kind::midrise_zero, K, delta, 0.0f, std::move(levels));
}

Alphabet Alphabet::thresholded(int K, float delta, float lambda) {
  check_uniform("Alphabet::thresholded", K, delta);
  QNN_CHECK(std::isfinite(lambda) && lambda >= 0, "Alphabet::thresholded",
            "got lambda = " << lambda << " (expected a finite lambda >= 0)");
  std::vector<float> levels;
  for (int k = K; k >= 0; --k)
    levels.push_back(-(lambda + static_cast<float>(k) * delta));
  if (lambda > 0)
    levels.push_back(0.0f);  // with lambda = 0 the level 0 is already the k = 0 one
  for (int k = 0; k <= K; ++k)
    levels.push_back(lambda + static_cast<float>(k) * delta);
  if (lambda == 0)
    levels.erase(levels.begin() + K);  // -0 and +0: keep one zero
  return Alphabet(Kind::thresholded, K, delta, lambda, std::move(levels));
}

Alphabet Alphabet::from_levels(std::vector<float> levels) {
  QNN_CHECK(!levels.empty(), "Alphabet::from_levels", "got no levels (expected at least one)");
  for (float v : levels)
    QNN_CHECK(std::isfinite(v), "Alphabet::from_levels", "got a level " << v << " (expected finite values)");
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  for (float& v : levels)
    if (v == 0.0f)
      v = 0.0f;  // one zero, +0
  return Alphabet(Kind::arbitrary, 0, 0.0f, 0.0f, std::move(levels));
}

int Alphabet::code(float z) const {
  switch (kind_) {
    case Kind::midtread: {
      // P2 (5): delta sign(z) min{|floor(z/delta + 1/2)|, K}; sign(z) |n| = n for the integer n.
      const float n = std::floor(z / delta_ + 0.5f);
      const float k = std::clamp(n, static_cast<float>(-K_), static_cast<float>(K_));
      return static_cast<int>(k) + K_;
    }
    case Kind::midrise: {
      // Levels (j + 1/2) delta, j = -K..K-1; z in [j delta, (j+1) delta) is nearest to level j.
      const float j = std::floor(z / delta_);
      return static_cast<int>(std::clamp(j, static_cast<float>(-K_), static_cast<float>(K_ - 1))) + K_;
    }
    case Kind::thresholded: {
      // P2 (6): 0 if |z| <= lambda, else sign(z) (lambda + delta min{|floor(s_lambda(z)/delta + 1/2)|, K}),
      // with the signed soft threshold s_lambda(z) inside the floor, so ties go toward +infinity
      // like P2 (5): s = +delta/2 -> one step up, s = -delta/2 -> the level -lambda.
      const int zero_index = static_cast<int>(levels_.size()) / 2;
      if (std::fabs(z) <= lambda_)
        return zero_index;
      const float s = z > 0 ? z - lambda_ : z + lambda_;  // s_lambda(z)
      const float k = std::min(std::fabs(std::floor(s / delta_ + 0.5f)), static_cast<float>(K_));
      const int offset = static_cast<int>(k) + (lambda_ > 0 ? 1 : 0);
      return z > 0 ? zero_index + offset : zero_index - offset;
    }
    case Kind::midrise_zero:
      return nearest_by_midpoints(levels_, z, /*ties_up=*/true);
    case Kind::arbitrary:
      return nearest_by_midpoints(levels_, z, /*ties_up=*/false);
  }
  return 0;
}

int Alphabet::index_of(float value) const {
  auto it = std::lower_bound(levels_.begin(), levels_.end(), value);
  if (it == levels_.end() || *it != value)
    return -1;
  return static_cast<int>(it - levels_.begin());
}

int Alphabet::bits_per_code() const {
  int bits = 1;
  while ((size_t{1} << bits) < levels_.size())
    ++bits;
  return bits;
}

std::string Alphabet::describe() const {
  std::ostringstream out;
  switch (kind_) {
    case Kind::midtread:
      out << "midtread K=" << K_ << " delta=" << delta_;
      break;
    case Kind::midrise:
      out << "midrise K=" << K_ << " delta=" << delta_;
      break;
    case Kind::midrise_zero:
      out << "midrise+0 K=" << K_ << " delta=" << delta_;
      break;
    case Kind::thresholded:
      out << "thresholded K=" << K_ << " delta=" << delta_ << " lambda=" << lambda_;
      break;
    case Kind::arbitrary:
      out << "levels";
      break;
  }
  out << " (" << levels_.size() << " levels)";
  return out.str();
}

AlphabetFamily alphabet_family_from_string(const std::string& name) {
  if (name == "midtread")
    return AlphabetFamily::midtread;
  if (name == "midrise0" || name == "midrise_zero")
    return AlphabetFamily::midrise_zero;
  if (name == "ternary")
    return AlphabetFamily::ternary;
  if (name == "binary")
    return AlphabetFamily::binary;
  throw Error("alphabet: got '" + name + "' (expected midtread, midrise0, ternary or binary)");
}

std::string to_string(AlphabetFamily family) {
  switch (family) {
    case AlphabetFamily::midtread:
      return "midtread";
    case AlphabetFamily::midrise_zero:
      return "midrise0";
    case AlphabetFamily::ternary:
      return "ternary";
    case AlphabetFamily::binary:
      return "binary";
  }
  return "?";
}

Alphabet alphabet_with_radius(AlphabetFamily family, int bits, float R) {
  QNN_CHECK(std::isfinite(R) && R > 0, "alphabet_with_radius",
            "got radius R = " << R << " (expected R > 0; is the layer's weight all zeros?)");
  if (family == AlphabetFamily::ternary)
    return Alphabet::ternary(R);
  if (family == AlphabetFamily::binary)
    return Alphabet::binary(2.0f * R);
  QNN_CHECK(bits >= 1 && bits <= 16, "alphabet_with_radius", "got bits = " << bits << " (expected 1..16)");
  const int K = 1 << (bits - 1);  // P2 (31) / P1 (17): K = 2^(b-1)
  if (family == AlphabetFamily::midtread)
    return Alphabet::midtread(K, R / static_cast<float>(K));                         // P2 (31)
  return Alphabet::midrise_zero(K, 2.0f * R / static_cast<float>((1 << bits) - 1));  // P1 (17)
}

}  // namespace qnn::quant
