#include "core/io/json_check.h"

#include <unordered_set>

#include "core/error.h"

namespace qnn {

namespace {

class Checker : public nlohmann::json_sax<nlohmann::json> {
 public:
  Checker(const std::string& what, const JsonLimits& limits) : what_(what), limits_(limits) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool key(string_t& name) override {
    if (limits_.unique_top_level_keys && depth_ == 1 && !keys_.insert(name).second)
      throw Error(what_ + " names '" + name + "' twice (expected unique names)");
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    throw Error(what_ + " is not valid JSON (" + e.what() + ")");
  }

 private:
  bool enter() {
    if (++depth_ > limits_.max_depth)
      throw Error(what_ + " nests deeper than " + std::to_string(limits_.max_depth) + " levels (expected " +
                  limits_.expected + ")");
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  const std::string& what_;
  const JsonLimits& limits_;
  int depth_ = 0;
  std::unordered_set<std::string> keys_;
};

}  // namespace

nlohmann::json parse_checked_json(const std::string& text, const std::string& what, const JsonLimits& limits) {
  {
    Checker checker(what, limits);
    nlohmann::json::sax_parse(text, &checker);
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // not expected after the first pass
    throw Error(what + " is not valid JSON (" + e.what() + ")");
  }
}

}  // namespace qnn
