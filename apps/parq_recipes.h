#pragma once
// The training recipes of the PARQ paper's tables (digest shared/papers/parq.md section 5.1) as
// TrainConfig JSON with a "qat" section, and the paper's numbers. apps/configs/parq/*.json are
// these recipes written out (a test keeps them equal); `qnn reproduce parq-cifar` runs Table 1.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace qnn::apps {

// Table 1 (ResNet-20/56 on CIFAR-10, from scratch, 200 epochs): SGD lr 0.1 momentum 0.9, wd 2e-4,
// LR x0.1 at epochs 80/120/150, batch 128, 200 FP warmup steps, LSBQ greedy per tensor (ternary:
// 1.1 mean), Q every 10 steps, PARQ steepness 100, anneal 0 -> epoch 150. epochs_scale shrinks
// the epoch counts (milestones and anneal end with them; warmup stays 200 steps).
nlohmann::ordered_json parq_cifar_recipe(const std::string& model, const std::string& bits, const std::string& method,
                                         double epochs_scale = 1.0);
// Tables 2-3 (ImageNet): ResNet-50 (90 epochs, per channel, Q every 50 steps, steepness 75) and
// DeiT-Ti/S/B (300 epochs AdamW, per channel, steepness 50, anneal end 280). Recorded for the
// ImageNet issue; the data pipeline they need is not part of qnn yet.
nlohmann::ordered_json parq_imagenet_recipe(const std::string& model, const std::string& bits,
                                            const std::string& method);

// A cell of the paper's tables: mean and std over 3 seeds (top-1 %).
struct PaperCell {
  double mean = 0.0, std = 0.0;
};
// Table 1: model resnet20|resnet56, bits "1","ternary","2","3","4", method ste|binaryrelax|parq.
PaperCell parq_table1(const std::string& model, const std::string& bits, const std::string& method);
double parq_table1_fp(const std::string& model);  // 91.82 / 93.08

}  // namespace qnn::apps
