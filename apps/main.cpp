// The `qnn` command: one executable, one subcommand per experiment kind.
#include <iostream>

#include "apps/commands.h"
#include "apps/startup.h"
#include "core/error.h"
#include "engine/run_record.h"

int main(int argc, char** argv) {
  qnn::apps::restart_with_fast_blas(argv);
  qnn::engine::set_command_line(argc, argv);  // for the run records
  CLI::App app{"qnn: a deep-learning framework with quantization built in"};
  app.require_subcommand(1);
  qnn::apps::add_info_command(app);
  auto* bench = app.add_subcommand("bench", "Time qnn's kernels (compare with shared/bench/*.py)");
  bench->require_subcommand(1);
  qnn::apps::add_bench_ops_command(*bench);
  qnn::apps::add_bench_train_command(*bench);
  qnn::apps::add_demo_command(app);
  qnn::apps::add_train_command(app);
  qnn::apps::add_eval_command(app);
  qnn::apps::add_models_command(app);
  qnn::apps::add_data_command(app);
  qnn::apps::add_ptq_command(app);
  qnn::apps::add_qat_command(app);
  auto* reproduce = app.add_subcommand("reproduce", "Re-run a paper's experiment and print its numbers beside ours");
  reproduce->require_subcommand(1);
  qnn::apps::add_reproduce_gpfq_theory_command(*reproduce);
  qnn::apps::add_reproduce_gpfq_commands(*reproduce);
  qnn::apps::add_reproduce_parq_command(*reproduce);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {  // qnn::Error and anything else an op throws
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
