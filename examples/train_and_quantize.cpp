// qnn as a library: train ResNet-20 on CIFAR-10 for a few steps (from scratch, or fine-tuning
// given weights), then quantize it to 4 bits with GPFQ, through the engine's API alone.
//   ./build/examples/train_and_quantize CIFAR10_DIR [STEPS [FROM_WEIGHTS]]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/ptq_pipeline.h"
#include "engine/trainer.h"
#include "engine/weights.h"

using namespace qnn;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CIFAR10_DIR [STEPS [FROM_WEIGHTS]]\n", argv[0]);
    return 2;
  }
  engine::TrainConfig train;  // the defaults of `qnn train`, then ours
  train.data_dir = argv[1];
  train.epochs = 1;
  train.train_limit = 128 * (argc > 2 ? std::atoi(argv[2]) : 20);  // a few steps of batch 128
  train.test_limit = 1000;
  train.out_dir = "runs/example";
  if (argc > 3) {  // fine-tune: a smaller lr, and the weights' own input normalization
    train.init_weights = argv[3];
    train.lr = 0.01;
  }
  const data::Normalization norm = engine::resolve_normalization("auto", train.init_weights, "cifar10");
  const auto data = data::load_classification_data("cifar10", train.data_dir, norm, /*load_train=*/true);
  engine::TrainCallbacks callbacks;
  callbacks.on_epoch_end = [](engine::EpochMetrics& m) {
    std::printf("trained: loss %.3f, test top-1 %.2f%%\n", m.train_loss, m.test_top1);
  };
  const engine::TrainResult trained = engine::train(train, data, callbacks);

  engine::PtqRunConfig ptq;  // GPFQ with 4-bit midtread alphabets (GPFQ paper P2, Algorithm 1)
  ptq.weights = trained.run_dir + "/last.safetensors";
  ptq.data_dir = train.data_dir;
  ptq.bits = {"4"};
  ptq.m = 128;
  ptq.test_limit = 1000;
  const engine::PtqRunResult r = engine::run_ptq(ptq);
  std::printf("4 bits, first 1000 test images: float %.2f%%, round-to-nearest %.2f%%, GPFQ %.2f%%\n", r.fp.top1,
              r.rtn.top1, r.quantized.top1);
  return 0;
}
