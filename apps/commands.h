#pragma once
// Each `qnn` subcommand lives in its own file and registers itself on the CLI11 app here.
#include <CLI/CLI.hpp>

namespace qnn::apps {

void add_info_command(CLI::App& app);
void add_bench_ops_command(CLI::App& bench);    // `qnn bench ops` (apps/bench_ops.cpp)
void add_bench_train_command(CLI::App& bench);  // `qnn bench train` (apps/bench_train.cpp)
void add_demo_command(CLI::App& app);           // `qnn demo spiral` (apps/demo_spiral.cpp)
void add_train_command(CLI::App& app);          // `qnn train` (apps/train.cpp)
void add_eval_command(CLI::App& app);
void add_models_command(CLI::App& app);
void add_qat_command(CLI::App& app);                   // `qnn qat` (apps/qat.cpp)
void add_reproduce_parq_command(CLI::App& reproduce);  // `qnn reproduce parq-cifar` (apps/reproduce_parq.cpp)
void add_data_command(CLI::App& app);  // `qnn data get` (apps/data_get.cpp)  // `qnn models` (apps/models.cpp) // `qnn
                                       // eval` (apps/eval.cpp)

}  // namespace qnn::apps
