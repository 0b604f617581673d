#pragma once
// The message of the qnn::Error a call throws ("" when it throws none), for tests that check
// several parts of one message.
#include <functional>
#include <string>

#include "core/error.h"

namespace qnn::testing {

inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace qnn::testing
