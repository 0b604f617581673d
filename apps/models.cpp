// `qnn models`: the names `--model` accepts, with their parameter counts.
#include <cstdio>

#include "apps/commands.h"
#include "nn/models/registry.h"

namespace qnn::apps {

void add_models_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("models", "List the models --model accepts");
  cmd->callback([] {
    for (const nn::ModelInfo& info : nn::model_list())
      std::printf("%-22s %s\n", info.name.c_str(), info.description.c_str());
  });
}

}  // namespace qnn::apps
