#pragma once
// GPFQ written again from the equations of the papers, in double, for tests that must not share
// code with quant/ptq (P2 = the later version of Zhang, Zhou, Saab, "Post-training quantization
// for neural networks with provable guarantees").
//
// check_gpfq_path does not recompute a result: it walks the result's own choices and checks each
// one. For a neuron w (row of W) and t = 1..N, with u_{t-1} built from the q's the result chose,
//   plain GPFQ, P2 (7)-(8):  q_t = argmin_{p in A} ||u_{t-1} + w_t X_t - p Xt_t||^2
//   soft, P2 (26):           q_t = argmin_{p in A} 1/2 ||u_{t-1} + w_t X_t - p Xt_t||^2 + lambda |p| ||Xt_t||^2
//   hard, P2 (28) with (6):  q_t = 0 if |alpha_t| <= lambda, else the level of A-tilde nearest alpha_t,
//                            alpha_t = <Xt_t, u_{t-1} + w_t X_t> / ||Xt_t||^2
//   u_t = u_{t-1} + w_t X_t - q_t Xt_t                                                     P2 (8)
// each argmin by trying every level. A dead column (Xt_t = 0) must get q_t = 0 (the authors'
// rule). The implementation sums in float and in other orders, so a choice within `slack` (in
// units of alpha, relative to the smallest gap of the alphabet) of a tie is accepted either way;
// such choices are counted.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qnn::testing {

// A dense row-major matrix of doubles.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  Matrix() = default;
  Matrix(int64_t r, int64_t c) : rows(r), cols(c), v(static_cast<size_t>(r * c), 0.0) {}
  double& operator()(int64_t r, int64_t c) { return v[static_cast<size_t>(r * cols + c)]; }
  double operator()(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
};

// A float tensor viewed as [size(0), rest].
inline Matrix to_matrix(const Tensor& t) {
  const int64_t rows = t.size(0);
  Matrix m(rows, t.numel() / rows);
  const std::vector<float> f = t.contiguous().to_vector<float>();
  for (size_t i = 0; i < f.size(); ++i)
    m.v[i] = f[i];
  return m;
}

// A W^T + b, then max(., 0) when `relu`: a Linear layer (and its ReLU) on the rows of A.
inline Matrix linear(const Matrix& A, const Matrix& W, const std::vector<double>& b, bool relu) {
  Matrix out(A.rows, W.rows);
  for (int64_t i = 0; i < A.rows; ++i)
    for (int64_t j = 0; j < W.rows; ++j) {
      double s = b.empty() ? 0.0 : b[static_cast<size_t>(j)];
      for (int64_t k = 0; k < A.cols; ++k)
        s += A(i, k) * W(j, k);
      out(i, j) = relu ? std::max(s, 0.0) : s;
    }
  return out;
}

// Columns [first, first + count) of A.
inline Matrix columns(const Matrix& A, int64_t first, int64_t count) {
  Matrix out(A.rows, count);
  for (int64_t i = 0; i < A.rows; ++i)
    for (int64_t c = 0; c < count; ++c)
      out(i, c) = A(i, first + c);
  return out;
}

// Rows [first, first + count) of A.
inline Matrix rows_of(const Matrix& A, int64_t first, int64_t count) {
  Matrix out(count, A.cols);
  std::copy(A.v.begin() + first * A.cols, A.v.begin() + (first + count) * A.cols, out.v.begin());
  return out;
}

// The radius of P2 (32), R = C r-bar with r-bar = mean over neurons (rows) of max |w|; with
// `per_channel`, one radius per row, R_j = C max |W_j| (qnn's option).
inline std::vector<double> radii(const Matrix& W, double C, bool per_channel) {
  std::vector<double> row_max(static_cast<size_t>(W.rows), 0.0);
  for (int64_t j = 0; j < W.rows; ++j)
    for (int64_t t = 0; t < W.cols; ++t)
      row_max[static_cast<size_t>(j)] = std::max(row_max[static_cast<size_t>(j)], std::fabs(W(j, t)));
  if (per_channel) {
    for (double& r : row_max)
      r *= C;
    return row_max;
  }
  double mean = 0;
  for (double r : row_max)
    mean += r / static_cast<double>(W.rows);
  return {C * mean};
}

// P2 (3): the midtread alphabet {k delta : |k| <= K}.
inline std::vector<double> midtread_levels(int K, double delta) {
  std::vector<double> a;
  for (int k = -K; k <= K; ++k)
    a.push_back(k * delta);
  return a;
}

// P2 (4): {0} u {+-(lambda + k delta) : 0 <= k <= K}.
inline std::vector<double> thresholded_levels(int K, double delta, double lambda) {
  std::vector<double> a = {0.0};
  for (int k = 0; k <= K; ++k) {
    a.push_back(lambda + k * delta);
    a.push_back(-(lambda + k * delta));
  }
  std::sort(a.begin(), a.end());
  return a;
}

enum class Rule { plain, soft, hard };

struct PathCheck {
  int64_t steps = 0;         // choices checked
  int64_t near_ties = 0;     // accepted although another level was (slightly) better in double
  int64_t wrong = 0;         // choices the rule does not make
  int64_t off_alphabet = 0;  // values that are not a level of the neuron's alphabet
  std::string first_problem;
};

// `alphabets`: one level set for every neuron, or one per neuron (sorted or not).
inline PathCheck check_gpfq_path(const Matrix& W, const Matrix& X, const Matrix& Xt, const Matrix& Q,
                                 const std::vector<std::vector<double>>& alphabets, Rule rule, double lambda,
                                 double slack = 1e-3) {
  PathCheck r;
  const int64_t m = X.rows, N = X.cols;
  auto note = [&r](const std::string& what) {
    if (r.first_problem.empty())
      r.first_problem = what;
  };
  for (int64_t j = 0; j < W.rows; ++j) {
    const std::vector<double>& A = alphabets[alphabets.size() == 1 ? 0 : static_cast<size_t>(j)];
    double gap = std::numeric_limits<double>::infinity(), scale = 0;
    for (size_t a = 0; a < A.size(); ++a) {
      scale = std::max(scale, std::fabs(A[a]));
      for (size_t b = a + 1; b < A.size(); ++b)
        gap = std::min(gap, std::fabs(A[a] - A[b]));
    }
    const double tol = slack * gap;
    std::vector<double> u(static_cast<size_t>(m), 0.0), v(static_cast<size_t>(m));
    for (int64_t t = 0; t < N; ++t) {
      ++r.steps;
      const double q = Q(j, t);
      std::ostringstream where;
      where << "neuron " << j << ", t = " << t << ": q = " << q;
      double level = A.front();  // the level q stands for (the result's levels are floats)
      for (double p : A)
        if (std::fabs(p - q) < std::fabs(level - q))
          level = p;
      if (std::fabs(level - q) > 1e-6 * std::max(scale, 1e-30)) {
        ++r.off_alphabet;
        note(where.str() + " is not a level");
      }
      double n2 = 0, dot = 0;
      for (int64_t i = 0; i < m; ++i) {
        v[static_cast<size_t>(i)] = u[static_cast<size_t>(i)] + W(j, t) * X(i, t);
        n2 += Xt(i, t) * Xt(i, t);
        dot += Xt(i, t) * v[static_cast<size_t>(i)];
      }
      if (n2 == 0) {  // dead column
        if (q != 0) {
          ++r.wrong;
          note(where.str() + " on a dead column (expected 0)");
        }
      } else if (rule == Rule::hard) {
        const double alpha = dot / n2;
        double nearest = A.front();
        for (double p : A)
          if (std::fabs(alpha - p) < std::fabs(alpha - nearest))
            nearest = p;
        const double want = std::fabs(alpha) <= lambda ? 0.0 : nearest;
        const bool at_threshold = std::fabs(std::fabs(alpha) - lambda) <= tol;
        const bool near_midpoint = std::fabs(std::fabs(alpha - level) - std::fabs(alpha - nearest)) <= tol;
        if (level != want) {
          if ((at_threshold && (level == 0 || level == nearest)) || (std::fabs(alpha) > lambda && near_midpoint)) {
            ++r.near_ties;
          } else {
            ++r.wrong;
            std::ostringstream s;
            s << where.str() << ", alpha = " << alpha << " (expected " << want << ")";
            note(s.str());
          }
        }
      } else {
        // P2 (26) divided by ||Xt_t||^2 (lambda = 0: P2 (7)), every level tried.
        const double lam = rule == Rule::soft ? lambda : 0.0;
        auto cost = [&](double p) {
          double s = 0;
          for (int64_t i = 0; i < m; ++i) {
            const double e = v[static_cast<size_t>(i)] - p * Xt(i, t);
            s += e * e;
          }
          return 0.5 * s / n2 + lam * std::fabs(p);
        };
        double best = std::numeric_limits<double>::infinity(), best_p = 0;
        for (double p : A)
          if (cost(p) < best) {
            best = cost(p);
            best_p = p;
          }
        const double mine = cost(level);
        // Two neighbouring levels at a distance gap differ in cost by gap * (distance of the
        // unconstrained minimizer from their midpoint): a slack of tol in alpha is gap * tol.
        if (mine > best + gap * tol) {
          ++r.wrong;
          std::ostringstream s;
          s << where.str() << " costs " << mine << ", level " << best_p << " costs " << best;
          note(s.str());
        } else if (mine > best) {
          ++r.near_ties;
        }
      }
      for (int64_t i = 0; i < m; ++i)  // P2 (8), with the result's own q_t
        u[static_cast<size_t>(i)] = v[static_cast<size_t>(i)] - q * Xt(i, t);
    }
  }
  return r;
}

}  // namespace qnn::testing
