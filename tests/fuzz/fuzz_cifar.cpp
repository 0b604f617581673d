// The CIFAR binary reader (datasets/cifar.h) on any bytes: the first byte picks CIFAR-10 or -100,
// the rest is the file. Every record of a file that loads goes through the training transforms.
#include "datasets/cifar.h"
#include "tests/fuzz/fuzz_target.h"

QNN_FUZZ_TARGET(cifar) {
  const char* kName = "cifar";
  if (size == 0)
    return 0;
  using qnn::data::Cifar;
  const auto variant = data[0] & 1 ? qnn::data::CifarVariant::Cifar100 : qnn::data::CifarVariant::Cifar10;
  const std::string in = qnn::fuzz::write_scratch("data.bin", data + 1, size - 1);
  qnn::fuzz::expect_qnn_errors_only(kName, [&] {
    const Cifar cifar(variant, {in});
    FUZZ_ASSERT(kName, cifar.size() * Cifar::record_bytes(variant) == static_cast<int64_t>(size - 1));
    using namespace qnn::data;
    const auto train = std::make_shared<Compose>(std::vector<TransformPtr>{
        std::make_shared<ToTensor>(), std::make_shared<RandomCrop>(32, 4), std::make_shared<RandomHorizontalFlip>(),
        std::make_shared<Normalize>(std::vector<float>{0.49f, 0.48f, 0.45f}, std::vector<float>{0.25f, 0.24f, 0.26f})});
    Cifar augmented = cifar;
    augmented.set_transform(train);
    qnn::Generator gen(static_cast<uint64_t>(size));
    for (int64_t i = 0; i < cifar.size(); ++i) {
      const qnn::data::Example plain = cifar.get(i, gen);
      FUZZ_ASSERT(kName, plain.label >= 0 && plain.label < cifar.num_classes());
      FUZZ_ASSERT(kName, augmented.get(i, gen).image.shape() == (qnn::Shape{3, 32, 32}));
    }
  });
  return 0;
}
