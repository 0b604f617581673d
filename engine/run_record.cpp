#include "engine/run_record.h"

#include <chrono>
#include <ctime>

#include "core/parallel.h"
#include "git_commit.h"  // generated at build time (engine/git_commit.cmake)

namespace qnn::engine {

namespace {
std::string& stored_command_line() {
  static std::string line;
  return line;
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

void set_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool quote = arg.empty() || arg.find_first_of(" \t\"'{}$*?") != std::string::npos;
    line += (i ? " " : "") + (quote ? "'" + arg + "'" : arg);
  }
  stored_command_line() = line;
}

const std::string& command_line() { return stored_command_line(); }

nlohmann::ordered_json build_record() {
  return {{"version", QNN_VERSION}, {"commit", QNN_GIT_COMMIT}, {"build_type", QNN_BUILD_TYPE}};
}

nlohmann::ordered_json environment_record() {
  nlohmann::ordered_json j;
  j["qnn"] = build_record();
  j["blas"] = blas_name();
  j["blas_kernel"] = blas_kernel();
  j["threads"] = num_threads();
  j["command_line"] = command_line();
  j["started_utc"] = utc_now();
  return j;
}

nlohmann::ordered_json normalization_record(const data::Normalization& norm, const std::string& source) {
  return {{"name", data::normalization_name(norm)}, {"mean", norm.mean}, {"std", norm.std}, {"source", source}};
}

nlohmann::ordered_json quantized_record(const std::vector<quant::QuantizedParam>& params, const std::string& bits) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const quant::QuantizedParam& p : params) {
    nlohmann::ordered_json levels = nlohmann::ordered_json::array();
    size_t count = 0;
    for (const quant::Alphabet& a : p.alphabets) {
      levels.push_back(a.levels());
      count = std::max(count, a.levels().size());
    }
    out.push_back({{"name", p.name},
                   {"bits", bits},
                   {"num_levels", count},
                   {"levels", p.alphabets.size() == 1 ? levels.at(0) : levels}});
  }
  return out;
}

}  // namespace qnn::engine
