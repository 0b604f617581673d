#pragma once
// JSON read from files qnn does not control (a safetensors header, the metadata inside one),
// parsed in time linear in its length and with bounded nesting. nlohmann's parse callback could
// check the keys as they come, but 3.11 rescans the parent object after each child with one, which
// is quadratic (a 40k-entry safetensors header took 34 s); and a document nested a million levels
// deep costs gigabytes as a DOM and overflows the stack in the (recursive) dump() of a message.
#include <nlohmann/json.hpp>
#include <string>

namespace qnn {

struct JsonLimits {
  int max_depth = 64;                  // objects and arrays inside each other
  bool unique_top_level_keys = false;  // a key given twice at the top level is an error
  std::string expected;                // for messages: what the document should look like
};

// A first pass with nlohmann's SAX interface checks the text against `limits`, then it is parsed.
// Throws qnn::Error "<what> is not valid JSON (...)", "<what> nests deeper than N levels (expected
// <expected>)" or "<what> names 'k' twice (expected unique names)"; `what` names the file and the
// part, e.g. "load_safetensors: a.safetensors: header".
nlohmann::json parse_checked_json(const std::string& text, const std::string& what, const JsonLimits& limits);

}  // namespace qnn
