#pragma once
// The folder of ../shared/data for tests that read real data. CI sets QNN_DATA_DIR; without it
// such a test prints why it skips and returns early.
#include <doctest/doctest.h>

#include <cstdlib>

namespace qnn::testing {

// $QNN_DATA_DIR, or nullptr after printing the reason for skipping.
inline const char* data_dir_or_skip() {
  const char* dir = std::getenv("QNN_DATA_DIR");
  if (dir && *dir)
    return dir;
  MESSAGE("skipped: QNN_DATA_DIR is not set (expected the folder of shared/data)");
  return nullptr;
}

}  // namespace qnn::testing
