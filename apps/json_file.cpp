#include "apps/json_file.h"

#include <fstream>

#include "core/error.h"

namespace qnn::apps {

nlohmann::json read_json_file(const std::string& path, const std::string& op) {
  std::ifstream in(path);
  QNN_CHECK(in.good(), op, "cannot open " << path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(op + ": " + path + " is not valid JSON: " + e.what());
  }
}

}  // namespace qnn::apps
