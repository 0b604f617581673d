#include "apps/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace qnn::apps {

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), tty_(isatty(STDERR_FILENO) == 1) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void ProgressBar::update(int64_t done, int64_t items, const std::string& status) {
  if (!tty_)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100))
    return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(items) / elapsed : 0.0;
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
  constexpr int kWidth = 24;
  const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : 0;
  std::ostringstream line;
  line << '\r' << label_ << " [";
  for (int i = 0; i < kWidth; ++i)
    line << (i < filled ? '=' : (i == filled ? '>' : ' '));
  char rate_text[32];
  std::snprintf(rate_text, sizeof rate_text, "%.0f", rate);
  line << "] " << done << '/' << total_ << "  " << rate_text << " img/s  " << status << "  ETA " << format_duration(eta)
       << "\033[K";
  std::cerr << line.str() << std::flush;
}

void ProgressBar::finish() {
  if (tty_)
    std::cerr << "\r\033[K" << std::flush;
}

std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(text, sizeof text, "%lld:%02lld", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  return text;
}

}  // namespace qnn::apps
