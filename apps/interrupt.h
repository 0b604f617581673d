#pragma once
// Ctrl-C for long runs: the first SIGINT asks the trainer to stop after the current step (it then
// saves its checkpoint); a second one kills the process.
#include <atomic>

namespace qnn::apps {

// Installs the handler for its lifetime and restores the default on destruction.
class StopOnInterrupt {
 public:
  StopOnInterrupt();
  ~StopOnInterrupt();
  StopOnInterrupt(const StopOnInterrupt&) = delete;
  StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

  // Set once Ctrl-C was pressed; what train() polls between steps.
  const std::atomic<bool>* flag() const;
  bool requested() const;
};

}  // namespace qnn::apps
