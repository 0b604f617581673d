#pragma once
// Reading a JSON config file with the error a user can act on: the command, the path, and what
// the parser said.
#include <nlohmann/json.hpp>
#include <string>

namespace qnn::apps {

// The parsed file; a qnn::Error "<op>: cannot open <path>" or "<op>: <path> is not valid JSON: ...".
nlohmann::json read_json_file(const std::string& path, const std::string& op);

}  // namespace qnn::apps
