// qnn as a library: train ResNet-20 on CIFAR-10 for a few steps, then quantize it to 4 bits with
// GPFQ, through the engine's API alone (no command line).
//   ./build/examples/train_and_quantize DATA_DIR [STEPS]   (DATA_DIR: cifar-10-batches-bin/)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/ptq_pipeline.h"
#include "engine/trainer.h"
#include "engine/weights.h"

using namespace qnn;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CIFAR10_DIR [STEPS]\n", argv[0]);
    return 2;
  }
  engine::TrainConfig train;
  train.model = "resnet20";
  train.data_dir = argv[1];
  train.epochs = 1;
  train.train_limit = 128 * (argc > 2 ? std::atoi(argv[2]) : 20);  // a few steps of batch 128
  train.test_limit = 1000;
  train.out_dir = "runs/example";
  const auto data = data::load_classification_data("cifar10", train.data_dir, data::named_normalization("cifar10"),
                                                   /*load_train=*/true);
  engine::TrainCallbacks callbacks;
  callbacks.on_epoch_end = [](engine::EpochMetrics& m) {
    std::printf("trained: loss %.3f, test top-1 %.2f%%\n", m.train_loss, m.test_top1);
  };
  const engine::TrainResult trained = engine::train(train, data, callbacks);

  engine::PtqRunConfig ptq;
  ptq.model = "resnet20";
  ptq.weights = trained.run_dir + "/last.safetensors";
  ptq.data_dir = train.data_dir;
  ptq.method = "gpfq";
  ptq.bits = {"4"};
  ptq.m = 128;
  ptq.test_limit = 1000;
  const engine::PtqRunResult r = engine::run_ptq(ptq);
  std::printf("GPFQ 4-bit: float %.2f%%, round-to-nearest %.2f%%, GPFQ %.2f%% (first 1000 test images)\n", r.fp.top1,
              r.rtn.top1, r.quantized.top1);
  return 0;
}
