#pragma once
// Flag checks whose messages say what was expected in plain numbers (CLI11's PositiveNumber says
// "Value 0 not in range 0.000000 to 1797693134862315708145274237317043567981...").
#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

namespace qnn::apps {

inline CLI::Validator positive() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v) || v <= 0)
          return "got " + text + " (expected a number > 0)";
        return {};
      },
      "> 0");
}

inline CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v) || v < 0)
          return "got " + text + " (expected a number >= 0)";
        return {};
      },
      ">= 0");
}

}  // namespace qnn::apps
