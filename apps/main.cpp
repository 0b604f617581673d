// The `qnn` command: one executable, one subcommand per experiment kind.
#include <iostream>

#include "apps/commands.h"
#include "apps/startup.h"
#include "core/error.h"
#include "datasets/pixel_limit.h"
#include "engine/run_record.h"

namespace {

// "qnn trian": CLI11 would say only "A subcommand is required"; name the word and the choices.
// (Subcommands with their own subcommands, `bench` and `reproduce`, say so the same way.)
int unknown_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-')
      continue;  // a global option is handled by CLI11
    if (i > 1 && std::string(argv[i - 1]) == "--max-image-pixels")
      continue;  // its value
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == word)
        return 0;
      else
        names += (names.empty() ? "" : ", ") + sub->get_name();
    std::cerr << "error: qnn: unknown command '" << word << "' (expected one of " << names << ")\n";
    return 2;
  }
  return 0;
}

}  // namespace

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
  app.add_option_function<int64_t>(
      "--max-image-pixels", [](int64_t n) { qnn::data::set_max_image_pixels(n); },
      "Largest image (width x height) decoded or resized, before any subcommand (default 178956970, as Pillow)");
  if (const int rc = unknown_command(app, argc, argv))
    return rc;
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
