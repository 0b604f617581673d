#pragma once
// Configs declared once. A config is a struct whose members carry their defaults; one macro line
// lists its members, and from that list come its JSON both ways (nlohmann's
// NLOHMANN_DEFINE_TYPE_INTRUSIVE_WITH_DEFAULT: keys missing from a file keep their defaults), the
// checks every config needs (parse_config: a JSON object, no unknown key, each value of a type its
// member accepts, every error naming the key) and the defaults shown in help texts
// (default_text), so the struct, its file format and its help cannot drift apart.
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"

// Declares the JSON of config struct `Type` from its member list (inside the struct).
#define QNN_CONFIG(Type, ...) NLOHMANN_DEFINE_TYPE_INTRUSIVE_WITH_DEFAULT(Type, __VA_ARGS__)

namespace qnn {

// The parsed file; a qnn::Error "<op>: cannot open <path>" or "<op>: <path> is not valid JSON: ...".
nlohmann::json read_json_file(const std::string& path, const std::string& op);

// "a, b, c": the keys of an object, for "expected one of" messages.
std::string key_list(const nlohmann::json& object);

// `j` as a T: every key must be one of T's, and each value must convert to its member's type
// (checked key by key, so the error names the key). `what` names the config in errors
// ("train config"). T::validate(), when T has one, then checks the values.
template <class T>
T parse_config(const nlohmann::json& j, const std::string& what) {
  QNN_CHECK(j.is_object(), what, "got " << j.type_name() << " (expected a JSON object)");
  const nlohmann::json defaults = T{};
  for (const auto& [key, value] : j.items()) {
    QNN_CHECK(defaults.contains(key), what,
              "unknown key '" << key << "' (expected one of " << key_list(defaults) << ")");
    const nlohmann::json& d = defaults.at(key);
    // nlohmann converts 2.5 to an integer member and -1 to an unsigned one without a word.
    QNN_CHECK(!(d.is_number_integer() && value.is_number_float()), what,
              "key '" << key << "' got " << value.dump() << " (expected an integer)");
    QNN_CHECK(!(d.is_number_unsigned() && value.is_number_integer() && !value.is_number_unsigned()), what,
              "key '" << key << "' got " << value.dump() << " (expected an integer >= 0)");
    nlohmann::json one = defaults;
    one[key] = value;
    try {
      (void)one.get<T>();
    } catch (const std::exception& e) {
      throw Error(what + ": key '" + key + "' got " + value.dump() + " (expected a value like " +
                  defaults.at(key).dump() + "): " + e.what());
    }
  }
  T config = j.get<T>();
  if constexpr (requires { config.validate(); })
    config.validate();
  return config;
}

// The default of `key` in T, as help texts show it ("0.1", "sgd", "true", "none" for "").
template <class T>
std::string default_text(const std::string& key) {
  const nlohmann::json defaults = T{};
  QNN_CHECK(defaults.contains(key), "default_text", "unknown key '" << key << "'");
  const nlohmann::json& v = defaults.at(key);
  if (v.is_string())
    return v.get<std::string>().empty() ? "none" : v.get<std::string>();
  return v.dump();
}

// A config value written as a number or a word: "bits": 4 and "bits": "ternary" (a file may
// give either; it is written back as a number when it is one).
struct NumberOrWord {
  std::string text;
  bool operator==(const NumberOrWord&) const = default;
};
void to_json(nlohmann::json& j, const NumberOrWord& v);
void from_json(const nlohmann::json& j, NumberOrWord& v);

}  // namespace qnn
