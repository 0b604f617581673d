#pragma once
// The classic toy classification set (CS231n's "spiral"): `classes` arms winding around the
// origin, `points_per_class` points each, with Gaussian noise on the angle. Not linearly
// separable, so a linear model stays near chance while a small MLP fits it.
#include <cmath>
#include <vector>

#include "core/creation.h"
#include "core/generator.h"

namespace qnn::apps {

struct Spiral {
  Tensor x;       // float32 [points_per_class * classes, 2]
  Tensor labels;  // int64   [points_per_class * classes], class c in rows c*P .. (c+1)*P-1
};

// Point i of class c: radius r = i / (P - 1), angle t = 4c + 4r + noise * N(0, 1),
// (x0, x1) = (r sin t, r cos t).
inline Spiral make_spiral(int64_t points_per_class, int64_t classes, Generator& gen, float noise = 0.2f) {
  const int64_t n = points_per_class * classes;
  std::vector<float> xy(2 * n);
  std::vector<int64_t> labels(n);
  for (int64_t c = 0; c < classes; ++c) {
    for (int64_t i = 0; i < points_per_class; ++i) {
      const int64_t row = c * points_per_class + i;
      const float r = points_per_class > 1 ? static_cast<float>(i) / (points_per_class - 1) : 0.0f;
      const float t = 4.0f * (c + r) + noise * gen.normal();
      xy[2 * row] = r * std::sin(t);
      xy[2 * row + 1] = r * std::cos(t);
      labels[row] = c;
    }
  }
  return {from_vector<float>(xy, {n, 2}), from_vector<int64_t>(labels, {n})};
}

}  // namespace qnn::apps
