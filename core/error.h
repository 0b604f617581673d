#pragma once
// qnn::Error: the one exception type. Its message names the operation, what it got and what it
// expected, e.g. "add: shapes [2, 3] and [4] cannot be broadcast (expected equal sizes or 1)".
#include <sstream>
#include <stdexcept>
#include <string>

namespace qnn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace qnn

// QNN_CHECK(cond, "op", "got " << x << ", expected " << y): throws qnn::Error("op: got ...").
// The message is only built when the check fails.
#define QNN_CHECK(cond, op, msg)                   \
  do {                                             \
    if (!(cond)) {                                 \
      std::ostringstream qnn_check_stream_;        \
      qnn_check_stream_ << (op) << ": " << msg;    \
      throw ::qnn::Error(qnn_check_stream_.str()); \
    }                                              \
  } while (0)
