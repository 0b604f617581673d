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
void add_data_command(CLI::App& app);  // `qnn data get` (apps/data_get.cpp)
void add_ptq_command(CLI::App& app);   // `qnn ptq` (apps/ptq.cpp)
// `qnn reproduce gpfq-theory` (apps/reproduce_gpfq_theory.cpp)
void add_reproduce_gpfq_theory_command(CLI::App& reproduce);
// `qnn reproduce gpfq-imagenet` and `gpfq-cifar` (apps/reproduce_gpfq.cpp)
void add_reproduce_gpfq_commands(CLI::App& reproduce);
void add_qat_command(CLI::App& app);                   // `qnn qat` (apps/qat.cpp)
void add_reproduce_parq_command(CLI::App& reproduce);  // `qnn reproduce parq-cifar` (apps/reproduce_parq.cpp)

}  // namespace qnn::apps
