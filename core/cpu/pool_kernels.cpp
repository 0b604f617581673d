#include "core/cpu/pool_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace qnn::cpu {
namespace {

// Planes are split across threads when there is enough work to pay for waking them.
bool go_parallel(int64_t work) { return work >= (int64_t{1} << 15) && !omp_in_parallel(); }

// The in-bounds part [begin, end) of window `o` along one dimension.
struct Range {
  int64_t begin, end;
};
Range window(int64_t o, int64_t stride, int64_t pad, int64_t kernel, int64_t size) {
  const int64_t start = o * stride - pad;
  return {std::max<int64_t>(start, 0), std::min(start + kernel, size)};
}

// Adaptive bins: [floor(i * in / out), ceil((i + 1) * in / out)).
Range bin(int64_t i, int64_t in, int64_t out) { return {i * in / out, ((i + 1) * in + out - 1) / out}; }

// The divisor of an average window.
float divisor(Range h, Range w, const PoolShape& s, bool count_include_pad) {
  return static_cast<float>(count_include_pad ? s.KH * s.KW : (h.end - h.begin) * (w.end - w.begin));
}

}  // namespace

void max_pool2d_forward(const float* x, const PoolShape& s, float* y, int32_t* argmax) {
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
#pragma omp parallel for schedule(static) if (go_parallel(s.planes * out_plane * s.KH * s.KW))
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* xp = x + p * in_plane;
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      const Range h = window(oh, s.SH, s.PH, s.KH, s.H);
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Range w = window(ow, s.SW, s.PW, s.KW, s.W);
        float best = -std::numeric_limits<float>::infinity();
        int64_t where = h.begin * s.W + w.begin;
        for (int64_t ih = h.begin; ih < h.end; ++ih)
          for (int64_t iw = w.begin; iw < w.end; ++iw) {
            // Selects rather than branches: on real data the winner is unpredictable.
            const float v = xp[ih * s.W + iw];
            const bool take = v > best || std::isnan(v);
            best = take ? v : best;
            where = take ? ih * s.W + iw : where;
          }
        y[p * out_plane + oh * s.OW + ow] = best;
        argmax[p * out_plane + oh * s.OW + ow] = static_cast<int32_t>(where);
      }
    }
  }
}

void max_pool2d_backward(const float* dy, const int32_t* argmax, const PoolShape& s, float* dx) {
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
#pragma omp parallel for schedule(static) if (go_parallel(s.planes * (in_plane + out_plane)))
  for (int64_t p = 0; p < s.planes; ++p) {
    float* dxp = dx + p * in_plane;
    std::fill(dxp, dxp + in_plane, 0.0f);
    for (int64_t o = 0; o < out_plane; ++o)
      dxp[argmax[p * out_plane + o]] += dy[p * out_plane + o];
  }
}

void avg_pool2d_forward(const float* x, const PoolShape& s, bool count_include_pad, float* y) {
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
#pragma omp parallel for schedule(static) if (go_parallel(s.planes * out_plane * s.KH * s.KW))
  for (int64_t p = 0; p < s.planes; ++p) {
    const float* xp = x + p * in_plane;
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      const Range h = window(oh, s.SH, s.PH, s.KH, s.H);
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Range w = window(ow, s.SW, s.PW, s.KW, s.W);
        float acc = 0.0f;
        for (int64_t ih = h.begin; ih < h.end; ++ih)
          for (int64_t iw = w.begin; iw < w.end; ++iw)
            acc += xp[ih * s.W + iw];
        y[p * out_plane + oh * s.OW + ow] = acc / divisor(h, w, s, count_include_pad);
      }
    }
  }
}

void avg_pool2d_backward(const float* dy, const PoolShape& s, bool count_include_pad, float* dx) {
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
#pragma omp parallel for schedule(static) if (go_parallel(s.planes * out_plane * s.KH * s.KW))
  for (int64_t p = 0; p < s.planes; ++p) {
    float* dxp = dx + p * in_plane;
    std::fill(dxp, dxp + in_plane, 0.0f);
    for (int64_t oh = 0; oh < s.OH; ++oh) {
      const Range h = window(oh, s.SH, s.PH, s.KH, s.H);
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Range w = window(ow, s.SW, s.PW, s.KW, s.W);
        const float g = dy[p * out_plane + oh * s.OW + ow] / divisor(h, w, s, count_include_pad);
        for (int64_t ih = h.begin; ih < h.end; ++ih)
          for (int64_t iw = w.begin; iw < w.end; ++iw)
            dxp[ih * s.W + iw] += g;
      }
    }
  }
}

void adaptive_avg_pool2d_forward(const float* x, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                 float* y) {
#pragma omp parallel for schedule(static) if (go_parallel(planes * std::max(H * W, OH * OW)))
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Range h = bin(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Range w = bin(ow, W, OW);
        float acc = 0.0f;
        if (w.begin == 0 && w.end == W) {  // whole rows (global pooling): one contiguous span
#pragma omp simd reduction(+ : acc)
          for (int64_t i = h.begin * W; i < h.end * W; ++i)
            acc += xp[i];
        } else {
          for (int64_t ih = h.begin; ih < h.end; ++ih)
#pragma omp simd reduction(+ : acc)
            for (int64_t iw = w.begin; iw < w.end; ++iw)
              acc += xp[ih * W + iw];
        }
        y[(p * OH + oh) * OW + ow] = acc / static_cast<float>((h.end - h.begin) * (w.end - w.begin));
      }
    }
  }
}

void adaptive_avg_pool2d_backward(const float* dy, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                  float* dx) {
#pragma omp parallel for schedule(static) if (go_parallel(planes * std::max(H * W, OH * OW)))
  for (int64_t p = 0; p < planes; ++p) {
    float* dxp = dx + p * H * W;
    std::fill(dxp, dxp + H * W, 0.0f);
    for (int64_t oh = 0; oh < OH; ++oh) {
      const Range h = bin(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const Range w = bin(ow, W, OW);
        const float g = dy[(p * OH + oh) * OW + ow] / static_cast<float>((h.end - h.begin) * (w.end - w.begin));
        for (int64_t ih = h.begin; ih < h.end; ++ih)
          for (int64_t iw = w.begin; iw < w.end; ++iw)
            dxp[ih * W + iw] += g;
      }
    }
  }
}

}  // namespace qnn::cpu
