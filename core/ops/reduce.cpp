#include "core/ops/reduce.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/autograd.h"
#include "core/cpu/binary_loop.h"
#include "core/cpu/norm_sum.h"
#include "core/cpu/reduce_loop.h"
#include "core/creation.h"
#include "core/ops/elementwise.h"

namespace qnn {
namespace {

std::vector<int64_t> all_dims(const Tensor& x) {
  std::vector<int64_t> dims(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d)
    dims[d] = d;
  return dims;
}

// ---- row reductions ------------------------------------------------------------------------
// var and norm see x as rows [R, K]: the kept dims first, the reduced dims last (a copy only when
// the reduced dims are not already the trailing, contiguous ones).
Tensor rows_of(const Tensor& x, const cpu::ReduceGeometry& geo) {
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!geo.reduced[d])
      perm.push_back(d);
  for (int64_t d = 0; d < x.dim(); ++d)
    if (geo.reduced[d])
      perm.push_back(d);
  return x.detach().permute(perm).contiguous();
}

// Rows are cut into chunks of this many elements, each one task; the partition does not depend on
// the thread count, and partials are combined in chunk order, so neither do the results. One long
// row (a reduction over all elements) is thus still spread over the threads.
constexpr int64_t kChunk = 1 << 15;

// out[r] = comb over the chunks of row r of seg(r, begin, end), left to right.
template <class T, class Seg, class Comb>
void reduce_rows(int64_t R, int64_t K, Seg seg, Comb comb, T* out) {
  const int64_t chunks = std::max<int64_t>(1, (K + kChunk - 1) / kChunk), tasks = R * chunks;
  std::vector<T> part(tasks);
  const bool parallel = tasks > 1 && R * K >= cpu::kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t r = t / chunks, begin = (t % chunks) * kChunk;
    part[t] = seg(r, begin, std::min(K, begin + kChunk));
  }
  for (int64_t r = 0; r < R; ++r) {
    T acc = part[r * chunks];
    for (int64_t c = 1; c < chunks; ++c)
      acc = comb(acc, part[r * chunks + c]);
    out[r] = acc;
  }
}

// Row sums in double of f(row pointer, i), i in the row.
template <class F>
std::vector<double> row_sums(const float* x, int64_t R, int64_t K, F f) {
  std::vector<double> out(R);
  reduce_rows<double>(
      R, K,
      [=](int64_t r, int64_t b, int64_t e) {
        const float* p = x + r * K + b;
        return cpu::lane_sum(e - b, [p, f](int64_t i) { return f(p[i]); });
      },
      [](double a, double b) { return a + b; }, out.data());
  return out;
}

// Max of f(v) over v in [p, p + n), or NaN when a NaN occurs (as torch). Vectorized: the max
// skips NaNs and a separate flag remembers them.
template <class F>
float nan_max(const float* p, int64_t n, F f) {
  float best = -std::numeric_limits<float>::infinity();
  int nan = 0;
#pragma omp simd reduction(max : best) reduction(| : nan)
  for (int64_t i = 0; i < n; ++i) {
    const float v = f(p[i]);
    best = v > best ? v : best;
    nan |= v != v;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : best;
}

// nan_max of f(x) over each row.
template <class F>
std::vector<float> row_max(const float* x, int64_t R, int64_t K, F f) {
  std::vector<float> out(R);
  reduce_rows<float>(
      R, K, [=](int64_t r, int64_t b, int64_t e) { return nan_max(x + r * K + b, e - b, f); },
      [](float a, float b) { return (a != a || a > b) ? a : b; }, out.data());
  return out;
}

// ---- elementwise maps against per-output values ----------------------------------------------
// dx = f(x, a, b) over x's shape, where a and b have the kept shape (reduced dims of size 1) and
// broadcast over the reduced dims. The backward of var and norm.
template <class F>
Tensor map_kept(const Tensor& x, const Tensor& a, const Tensor& b, F f) {
  Tensor out = Tensor::empty(x.shape());
  float* po = out.data<float>();
  const float* px = static_cast<const float*>(x.storage()->data());
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  const Shape& shape = x.shape();
  cpu::strided_loop<4>(
      shape, {out.strides(), x.strides(), cpu::broadcast_strides(a, shape), cpu::broadcast_strides(b, shape)},
      {0, x.offset(), 0, 0}, [&](const std::array<int64_t, 4>& off, int64_t n, const std::array<int64_t, 4>& st) {
        for (int64_t i = 0; i < n; ++i)
          po[off[0] + i * st[0]] = f(px[off[1] + i * st[1]], pa[off[2] + i * st[2]], pb[off[3] + i * st[3]]);
      });
  return out;
}

Tensor kept_tensor(const std::vector<float>& v, const Shape& kept) { return from_vector<float>(v, kept); }

float sgn(float v) { return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f); }

// ---- max / min along one dim -----------------------------------------------------------------
// x contiguous seen as [outer, K, inner] around the reduced dim.
struct DimShape {
  int64_t outer, K, inner;
};

DimShape dim_shape(const Shape& shape, int64_t d) {
  DimShape s{1, shape.empty() ? 1 : shape[d], 1};
  for (int64_t i = 0; i < d; ++i)
    s.outer *= shape[i];
  for (size_t i = static_cast<size_t>(d) + 1; i < shape.size(); ++i)
    s.inner *= shape[i];
  return s;
}

// v beats the current best: strictly greater (less), so ties keep the first index; a NaN beats
// every number and the first NaN stays, as torch's max/min/argmax.
template <bool kMax>
inline bool beats(float v, float best) {
  return (kMax ? v > best : v < best) || (v != v && best == best);
}

// values[o, i] = extremum over k of x[o, k, i], indices[o, i] = its first k. Columns are handled in
// tiles so that the inner loop runs along contiguous memory.
template <bool kMax>
void arg_extremum(const float* x, DimShape s, float* values, int64_t* indices) {
  constexpr int64_t kTile = 256;
  const int64_t tiles = (s.inner + kTile - 1) / kTile, tasks = s.outer * tiles;
  const bool parallel = tasks > 1 && s.outer * s.K * s.inner >= cpu::kParallelGrain && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / tiles, i0 = (t % tiles) * kTile, i1 = std::min(s.inner, i0 + kTile);
    const float* xo = x + o * s.K * s.inner;
    float* vo = values + o * s.inner;
    int64_t* io = indices + o * s.inner;
    if (s.inner == 1) {
      // A vectorized pass for the extremum (NaN if any), then the first index that holds it.
      const float m =
          kMax ? nan_max(xo, s.K, [](float v) { return v; }) : -nan_max(xo, s.K, [](float v) { return -v; });
      int64_t arg = 0;
      while (arg < s.K - 1 && !(m != m ? xo[arg] != xo[arg] : xo[arg] == m))
        ++arg;
      vo[0] = xo[arg];
      io[0] = arg;
      continue;
    }
    for (int64_t i = i0; i < i1; ++i) {
      vo[i] = xo[i];
      io[i] = 0;
    }
    for (int64_t k = 1; k < s.K; ++k) {
      const float* xk = xo + k * s.inner;
      for (int64_t i = i0; i < i1; ++i)
        if (beats<kMax>(xk[i], vo[i])) {
          vo[i] = xk[i];
          io[i] = k;
        }
    }
  }
}

template <bool kMax>
ValuesIndices extremum_dim(const char* op, const Tensor& x, int64_t dim, bool keepdim, bool values_only = false) {
  cpu::check_float_cpu(op, x);
  const int64_t d = wrap_dim(dim, x.dim(), op);
  const DimShape s = dim_shape(x.shape(), d);
  QNN_CHECK(s.K > 0, op,
            "got input of shape " << shape_str(x.shape()) << " reduced over dimension " << d
                                  << " of size 0 (expected a non-empty dimension)");
  Shape kept = x.shape();
  if (!kept.empty())
    kept[d] = 1;
  Shape squeezed = x.shape();
  if (!squeezed.empty())
    squeezed.erase(squeezed.begin() + d);
  const Tensor xc = x.contiguous();
  Tensor values = Tensor::empty(keepdim ? kept : squeezed);
  Tensor indices = Tensor::empty(keepdim ? kept : squeezed, DType::Int64);
  arg_extremum<kMax>(xc.data<float>(), s, values.data<float>(), indices.data<int64_t>());
  if (values_only)
    return {values, indices};
  // The gradient goes to the chosen index only: dx[o, idx[o, i], i] = g[o, i].
  record(op, values, {x}, [in_shape = x.shape(), s, idx = indices](const Tensor& g) {
    const Tensor gc = g.contiguous();
    Tensor dx = zeros(in_shape);
    const float* pg = gc.data<float>();
    const int64_t* pi = idx.data<int64_t>();
    float* pd = dx.data<float>();
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        const int64_t j = o * s.inner + i;
        pd[(o * s.K + pi[j]) * s.inner + i] = pg[j];
      }
    return std::vector<Tensor>{dx};
  });
  return {values, indices};
}

// max/min over all elements. The gradient is shared evenly by all elements equal to the result
// (all NaNs when it is NaN), as torch's max() and min() without a dim.
template <bool kMax>
Tensor extremum_all(const char* op, const Tensor& x) {
  cpu::check_float_cpu(op, x);
  QNN_CHECK(x.numel() > 0, op, "got an empty input (expected at least one element)");
  const Tensor xc = x.contiguous();
  const float m = row_max(xc.data<float>(), 1, x.numel(), [](float v) { return kMax ? v : -v; })[0];
  Tensor out = scalar_tensor(kMax ? m : -m);
  record(op, out, {x}, [xs = xc.detach(), m = kMax ? m : -m](const Tensor& g) {
    const bool nan = m != m;
    const float* px = xs.data<float>();
    const double count =
        row_sums(px, 1, xs.numel(), [m, nan](float v) { return (nan ? v != v : v == m) ? 1.0f : 0.0f; })[0];
    const float share = static_cast<float>(g.item() / count);
    Tensor dx = Tensor::empty(xs.shape());
    float* pd = dx.data<float>();
    for (int64_t i = 0; i < xs.numel(); ++i)
      pd[i] = (nan ? px[i] != px[i] : px[i] == m) ? share : 0.0f;
    return std::vector<Tensor>{dx};
  });
  return out;
}

}  // namespace

// ---- sum ---------------------------------------------------------------------------------------
Tensor sum(const Tensor& x) { return sum(x, all_dims(x), false); }

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  cpu::check_float_cpu("sum", x);
  const cpu::ReduceGeometry geo = cpu::reduce_geometry(x, dims, "sum");
  Tensor out = Tensor::empty(geo.kept_shape, DType::Float32, x.device());
  cpu::reduce_loop(x, geo, out.data<float>(), [](const float* p, int64_t n, int64_t stride) {
    double acc = 0.0;  // double accumulation: sums of millions of floats stay accurate
    for (int64_t i = 0; i < n; ++i)
      acc += p[i * stride];
    return static_cast<float>(acc);
  });
  Tensor result = keepdim ? out : out.view(geo.squeezed_shape);
  record("sum", result, {x}, [in_shape = x.shape(), kept = geo.kept_shape](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(kept).expand(in_shape)};
  });
  return result;
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape)
    return g;
  QNN_CHECK(shape.size() <= g.shape().size(), "sum_to",
            "cannot sum " << shape_str(g.shape()) << " to " << shape_str(shape) << " (expected fewer dims)");
  const size_t lead = g.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < g.shape().size(); ++i) {
    if (i < lead) {
      dims.push_back(static_cast<int64_t>(i));
    } else if (shape[i - lead] == 1 && g.shape()[i] != 1) {
      dims.push_back(static_cast<int64_t>(i));
    } else {
      QNN_CHECK(shape[i - lead] == g.shape()[i], "sum_to",
                "cannot sum " << shape_str(g.shape()) << " to " << shape_str(shape) << " (expected a broadcast of it)");
    }
  }
  return sum(g, dims, true).reshape(shape);
}

// ---- mean, var ---------------------------------------------------------------------------------
Tensor mean(const Tensor& x) { return mean(x, all_dims(x), false); }

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const char* op = "mean";
  cpu::check_float_cpu(op, x);
  const cpu::ReduceGeometry geo = cpu::reduce_geometry(x, dims, op);
  const double count = static_cast<double>(geo.inner_numel);  // 0 gives NaN, as torch
  Tensor out = Tensor::empty(geo.kept_shape);
  cpu::reduce_loop(x, geo, out.data<float>(), [](const float* p, int64_t n, int64_t stride) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i)
      acc += p[i * stride];
    return static_cast<float>(acc);
  });
  float* po = out.data<float>();
  for (int64_t i = 0; i < out.numel(); ++i)
    po[i] = static_cast<float>(po[i] / count);
  Tensor result = keepdim ? out : out.view(geo.squeezed_shape);
  record(op, result, {x}, [in_shape = x.shape(), kept = geo.kept_shape, count](const Tensor& g) {
    return std::vector<Tensor>{mul(g.reshape(kept).expand(in_shape), static_cast<float>(1.0 / count))};
  });
  return result;
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, int64_t correction, bool keepdim) {
  const char* op = "var";
  cpu::check_float_cpu(op, x);
  QNN_CHECK(correction >= 0, op, "got correction " << correction << " (expected >= 0)");
  const cpu::ReduceGeometry geo = cpu::reduce_geometry(x, dims, op);
  const Tensor rows = rows_of(x, geo);
  const int64_t K = geo.inner_numel, R = numel_of(geo.kept_shape);
  const float* px = rows.data<float>();
  // Two passes: the mean, then the sums of d = x - mean and d^2. The sum of d (zero in exact
  // arithmetic) corrects for the rounding of the mean: var = (sum d^2 - (sum d)^2 / K) / dof.
  const std::vector<double> s1 = row_sums(px, R, K, [](float v) { return v; });
  std::vector<float> m(R);
  for (int64_t r = 0; r < R; ++r)
    m[r] = static_cast<float>(s1[r] / static_cast<double>(K));
  std::vector<std::pair<double, double>> s2(R);
  reduce_rows<std::pair<double, double>>(
      R, K,
      [&](int64_t r, int64_t b, int64_t e) {
        const float* p = px + r * K + b;
        const float c = m[r];
        std::pair<double, double> acc;
        cpu::lane_sum2(
            e - b, [p, c](int64_t i) { return p[i] - c; },
            [p, c](int64_t i) {
              const float d = p[i] - c;
              return d * d;
            },
            acc.first, acc.second);
        return acc;
      },
      [](std::pair<double, double> a, std::pair<double, double> b) {
        return std::pair<double, double>{a.first + b.first, a.second + b.second};
      },
      s2.data());
  // torch divides by max(0, K - correction): 0/0 = NaN for a single value, as it warns.
  const double dof = static_cast<double>(std::max<int64_t>(0, K - correction));
  std::vector<float> v(R), mean_exact(R);
  for (int64_t r = 0; r < R; ++r) {
    const double sd = s2[r].first, ss = s2[r].second;
    v[r] = static_cast<float>(std::max(ss - sd * sd / static_cast<double>(K), 0.0) / dof);
    mean_exact[r] = static_cast<float>(m[r] + sd / static_cast<double>(K));
  }
  Tensor out = kept_tensor(v, geo.kept_shape);
  Tensor result = keepdim ? out : out.view(geo.squeezed_shape);
  // dvar/dx = 2 (x - mean) / dof.
  record(op, result, {x}, [xs = x.detach(), kept = geo.kept_shape, mean_exact, dof](const Tensor& g) {
    const Tensor mu = kept_tensor(mean_exact, kept);
    const Tensor gs = mul(g.reshape(kept), static_cast<float>(2.0 / dof)).contiguous();
    return std::vector<Tensor>{map_kept(xs, mu, gs, [](float xv, float mv, float gv) { return gv * (xv - mv); })};
  });
  return result;
}

// ---- max, min, argmax --------------------------------------------------------------------------
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) { return extremum_dim<true>("max", x, dim, keepdim); }
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) { return extremum_dim<false>("min", x, dim, keepdim); }
Tensor max(const Tensor& x) { return extremum_all<true>("max", x); }
Tensor min(const Tensor& x) { return extremum_all<false>("min", x); }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim<true>("argmax", x, dim, keepdim, true).indices;
}

// ---- norm --------------------------------------------------------------------------------------
Tensor norm(const Tensor& x, float p) { return norm(x, p, all_dims(x), false); }

Tensor norm(const Tensor& x, float p, const std::vector<int64_t>& dims, bool keepdim) {
  const char* op = "norm";
  cpu::check_float_cpu(op, x);
  const bool inf = std::isinf(p) && p > 0;
  QNN_CHECK(p == 1.0f || p == 2.0f || inf, op, "got p = " << p << " (expected 1, 2 or INFINITY)");
  const cpu::ReduceGeometry geo = cpu::reduce_geometry(x, dims, op);
  const int64_t K = geo.inner_numel;
  QNN_CHECK(!inf || K > 0 || numel_of(geo.kept_shape) == 0, op,
            "got the infinity norm of an empty set of elements (expected a non-empty reduction)");
  const Tensor rows = rows_of(x, geo);
  const int64_t R = numel_of(geo.kept_shape);
  const float* px = rows.data<float>();
  std::vector<float> n(R);
  if (p == 1.0f) {
    const std::vector<double> s = row_sums(px, R, K, [](float v) { return std::fabs(v); });
    for (int64_t r = 0; r < R; ++r)
      n[r] = static_cast<float>(s[r]);
  } else if (p == 2.0f) {
    const std::vector<double> s = row_sums(px, R, K, [](float v) { return v * v; });
    for (int64_t r = 0; r < R; ++r)
      n[r] = static_cast<float>(std::sqrt(s[r]));
  } else {
    n = row_max(px, R, K, [](float v) { return std::fabs(v); });
  }
  Tensor out = kept_tensor(n, geo.kept_shape);
  Tensor result = keepdim ? out : out.view(geo.squeezed_shape);
  record(op, result, {x}, [xs = x.detach(), geo, p, inf, n](const Tensor& g) {
    const Tensor gk = g.reshape(geo.kept_shape).contiguous();
    const Tensor nk = kept_tensor(n, geo.kept_shape);
    if (p == 1.0f)  // d|x|/dx = sgn(x) (0 at 0, as torch)
      return std::vector<Tensor>{map_kept(xs, nk, gk, [](float xv, float, float gv) { return sgn(xv) * gv; })};
    if (!inf)  // d||x||/dx = x / ||x||, and 0 where the norm is 0 (torch's subgradient)
      return std::vector<Tensor>{
          map_kept(xs, nk, gk, [](float xv, float nv, float gv) { return nv == 0.0f ? 0.0f : xv * (gv / nv); })};
    // Infinity norm: the gradient is shared evenly by the elements with |x| equal to the norm (or
    // NaN), each with its sign, as torch's norm backward.
    auto hit = [](float xv, float nv) { return std::fabs(xv) == nv || xv != xv; };
    const Tensor rows2 = rows_of(xs, geo);
    const int64_t K2 = geo.inner_numel, R2 = numel_of(geo.kept_shape);
    const float* pr = rows2.data<float>();
    std::vector<double> count(R2, 0.0);
    for (int64_t r = 0; r < R2; ++r)
      for (int64_t i = 0; i < K2; ++i)
        count[r] += hit(pr[r * K2 + i], n[r]) ? 1.0 : 0.0;
    std::vector<float> share(R2);
    const float* pg = gk.data<float>();
    for (int64_t r = 0; r < R2; ++r)
      share[r] = static_cast<float>(pg[r] / count[r]);
    return std::vector<Tensor>{
        map_kept(xs, nk, kept_tensor(share, geo.kept_shape),
                 [hit](float xv, float nv, float sv) { return hit(xv, nv) ? sgn(xv) * sv : 0.0f; })};
  });
  return result;
}

}  // namespace qnn
