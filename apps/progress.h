#pragma once
// A one-line progress bar for terminals: "[=====>    ] 120/390  612 img/s  loss 1.234  ETA 0:42".
// On a terminal it redraws in place; otherwise (logs, CI) it prints nothing until finish(), so
// files are not flooded with carriage returns.
#include <chrono>
#include <cstdint>
#include <string>

namespace qnn::apps {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  // Redraws (at most ~10 times a second) with `done` of `total` steps, `items` processed so far
  // (for the rate) and a free-form status such as "loss 1.234".
  void update(int64_t done, int64_t items, const std::string& status);
  void finish();  // clears the line

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  // "1:02:03" or "4:05"

}  // namespace qnn::apps
