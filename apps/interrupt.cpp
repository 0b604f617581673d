#include "apps/interrupt.h"

#include <unistd.h>

#include <csignal>

namespace qnn::apps {

namespace {

// A signal handler can only reach globals; one process has one Ctrl-C.
std::atomic<bool> g_stop_requested{false};

void on_interrupt(int) {
  if (g_stop_requested.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  const char message[] = "\nstopping after this step (Ctrl-C again to kill)...\n";
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, message, sizeof message - 1);
}

}  // namespace

StopOnInterrupt::StopOnInterrupt() {
  g_stop_requested = false;
  std::signal(SIGINT, on_interrupt);
}

StopOnInterrupt::~StopOnInterrupt() { std::signal(SIGINT, SIG_DFL); }

const std::atomic<bool>* StopOnInterrupt::flag() const { return &g_stop_requested; }

bool StopOnInterrupt::requested() const { return g_stop_requested.load(); }

}  // namespace qnn::apps
