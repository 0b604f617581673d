#include "core/config.h"

#include <filesystem>
#include <fstream>

namespace qnn {

nlohmann::json read_json_file(const std::string& path, const std::string& op) {
  std::error_code ec;
  QNN_CHECK(std::filesystem::is_regular_file(path, ec), op,
            path << ": " << (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file")
                 << " (expected a JSON file)");
  std::ifstream in(path);
  QNN_CHECK(in.good(), op, "cannot open " << path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(op + ": " + path + " is not valid JSON: " + e.what());
  }
}

std::string key_list(const nlohmann::json& object) {
  std::string names;
  for (const auto& [key, value] : object.items())
    names += (names.empty() ? "" : ", ") + key;
  return names;
}

void to_json(nlohmann::json& j, const NumberOrWord& v) {
  const bool integer =
      !v.text.empty() && v.text.find_first_not_of("0123456789") == std::string::npos && v.text.size() < 10;
  j = integer ? nlohmann::json(std::stoi(v.text)) : nlohmann::json(v.text);
}

void from_json(const nlohmann::json& j, NumberOrWord& v) {
  if (j.is_number_integer())
    v.text = std::to_string(j.get<int64_t>());
  else if (j.is_string())
    v.text = j.get<std::string>();
  else
    throw Error("got " + j.dump() + " (expected an integer or a word such as \"ternary\")");
}

}  // namespace qnn
