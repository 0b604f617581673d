#pragma once
// Each `qnn` subcommand lives in its own file and registers itself on the CLI11 app here.
#include <CLI/CLI.hpp>

namespace qnn::apps {

void add_info_command(CLI::App& app);

}  // namespace qnn::apps
