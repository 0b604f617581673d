// DataLoader: each index once per epoch, seeded orders per epoch, drop_last, batches identical with
// 0 and several workers (under uneven per-sample delays), resuming with set_epoch, bounded
// prefetch, early exit, errors from workers rethrown in the consumer.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <thread>
#include <vector>

#include "core/ops.h"
#include "datasets/cifar.h"
#include "datasets/dataloader.h"

using namespace qnn;
using namespace qnn::data;

namespace {

// Example i: image [1, 1, 2] = (i, a uniform draw from the sample's generator), label 10 i.
// Optional: a delay that differs between samples (so workers finish out of order), a sample that
// throws, and a count of get() calls.
class Numbers : public Dataset {
 public:
  explicit Numbers(int64_t n, bool uneven_delays = false, int64_t fail_at = -1)
      : n_(n), uneven_delays_(uneven_delays), fail_at_(fail_at) {}
  int64_t size() const override { return n_; }
  using Dataset::get;
  Example get(int64_t i, Generator& gen) const override {
    calls.fetch_add(1);
    if (i == fail_at_)
      throw Error("Numbers: bad sample " + std::to_string(i));
    if (uneven_delays_)
      std::this_thread::sleep_for(std::chrono::microseconds((i * 7919) % 5 * 150));
    return {from_vector<float>({static_cast<float>(i), gen.uniform()}, {1, 1, 2}), 10 * i};
  }
  mutable std::atomic<int64_t> calls{0};

 private:
  int64_t n_;
  bool uneven_delays_;
  int64_t fail_at_;
};

std::vector<Batch> epoch_batches(DataLoader& loader) {
  std::vector<Batch> out;
  for (const Batch& b : loader)
    out.push_back(b);
  return out;
}

void check_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    CAPTURE(k);
    CHECK(a[k].index == b[k].index);
    CHECK(a[k].epoch == b[k].epoch);
    CHECK(a[k].images.shape() == b[k].images.shape());
    CHECK(a[k].images.to_vector<float>() == b[k].images.to_vector<float>());
    CHECK(a[k].labels.to_vector<int64_t>() == b[k].labels.to_vector<int64_t>());
  }
}

std::vector<int64_t> all_labels(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const Batch& b : batches)
    for (int64_t l : b.labels.to_vector<int64_t>())
      out.push_back(l);
  return out;
}

}  // namespace

TEST_SUITE("dataloader") {
  TEST_CASE("every index exactly once per epoch, in batches of batch_size") {
    auto data = std::make_shared<Numbers>(103);
    for (int workers : {0, 3}) {
      CAPTURE(workers);
      DataLoader loader(data, 10, /*shuffle=*/true, /*drop_last=*/false, /*seed=*/4, workers);
      CHECK(loader.size() == 11);
      for (int64_t epoch = 0; epoch < 2; ++epoch) {
        const std::vector<Batch> batches = epoch_batches(loader);
        REQUIRE(batches.size() == 11);
        for (size_t k = 0; k < batches.size(); ++k) {
          CHECK(batches[k].index == static_cast<int64_t>(k));
          CHECK(batches[k].epoch == epoch);
          CHECK(batches[k].images.shape() == Shape{k < 10 ? 10 : 3, 1, 1, 2});
          // Image and label belong to the same example.
          const std::vector<float> img = batches[k].images.to_vector<float>();
          const std::vector<int64_t> lab = batches[k].labels.to_vector<int64_t>();
          for (size_t j = 0; j < lab.size(); ++j)
            CHECK(static_cast<int64_t>(img[2 * j]) * 10 == lab[j]);
        }
        std::vector<int64_t> labels = all_labels(batches);
        std::sort(labels.begin(), labels.end());
        for (int64_t i = 0; i < 103; ++i)
          CHECK(labels[static_cast<size_t>(i)] == 10 * i);
      }
    }
  }

  TEST_CASE("orders: identity without shuffle, seeded per epoch with it") {
    auto data = std::make_shared<Numbers>(50);
    std::vector<int64_t> identity(50);
    std::iota(identity.begin(), identity.end(), 0);
    CHECK(DataLoader(data, 8).order(3) == identity);

    DataLoader a(data, 8, true, false, /*seed=*/1), b(data, 8, true, false, /*seed=*/1), c(data, 8, true, false, 2);
    CHECK(a.order(0) == b.order(0));
    CHECK(a.order(0) != identity);
    CHECK(a.order(0) != a.order(1));  // different epochs, different orders
    CHECK(a.order(0) != c.order(0));  // different seeds too
    std::vector<int64_t> sorted = a.order(1);
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == identity);
    // The batches follow the order, and each `for` runs the next epoch.
    CHECK(a.epoch() == 0);
    const std::vector<Batch> e0 = epoch_batches(a);
    CHECK(a.epoch() == 1);
    const std::vector<Batch> e1 = epoch_batches(a);
    const std::vector<int64_t> o0 = a.order(0), o1 = a.order(1);
    for (size_t k = 0; k < 50; ++k) {
      CHECK(all_labels(e0)[k] == 10 * o0[k]);
      CHECK(all_labels(e1)[k] == 10 * o1[k]);
    }
    // Same seed, same batches (augmentation included).
    check_same(e0, epoch_batches(b));
  }

  TEST_CASE("drop_last drops the short final batch") {
    auto data = std::make_shared<Numbers>(10);
    DataLoader keep(data, 4, false, false), drop(data, 4, false, true);
    CHECK(keep.size() == 3);
    CHECK(drop.size() == 2);
    const std::vector<Batch> k = epoch_batches(keep), d = epoch_batches(drop);
    REQUIRE(k.size() == 3);
    REQUIRE(d.size() == 2);
    CHECK(k[2].labels.to_vector<int64_t>() == std::vector<int64_t>{80, 90});
    CHECK(d[1].labels.to_vector<int64_t>() == std::vector<int64_t>{40, 50, 60, 70});
    CHECK(DataLoader(data, 20, false, true).size() == 0);
    CHECK(epoch_batches(*std::make_unique<DataLoader>(data, 20, false, true)).empty());
  }

  TEST_CASE("batches do not depend on the number of workers or on scheduling") {
    // Uneven per-sample delays make workers finish batches out of order.
    auto data = std::make_shared<Numbers>(64, /*uneven_delays=*/true);
    DataLoader serial(data, 6, true, false, /*seed=*/11, /*num_workers=*/0);
    DataLoader two(data, 6, true, false, 11, /*num_workers=*/2);
    DataLoader three(data, 6, true, false, 11, /*num_workers=*/3, /*prefetch=*/1);
    for (int epoch = 0; epoch < 2; ++epoch) {
      const std::vector<Batch> s = epoch_batches(serial);
      check_same(s, epoch_batches(two));
      check_same(s, epoch_batches(three));
      // The random part of each image really is random: not all draws are equal.
      CHECK(s[0].images.to_vector<float>()[1] != s[0].images.to_vector<float>()[3]);
    }
    // batch(e, k) builds the same batch on demand.
    serial.set_epoch(1);
    check_same({serial.batch(1, 4)}, {epoch_batches(serial)[4]});
  }

  TEST_CASE("set_epoch resumes mid-epoch with the same batches") {
    auto data = std::make_shared<Numbers>(40);
    DataLoader full(data, 5, true, false, 3, 2);
    full.set_epoch(2);
    const std::vector<Batch> all = epoch_batches(full);
    CHECK(full.epoch() == 3);
    DataLoader resumed(data, 5, true, false, 3, 2);
    resumed.set_epoch(2, /*first_batch=*/5);
    const std::vector<Batch> rest = epoch_batches(resumed);
    check_same(rest, std::vector<Batch>(all.begin() + 5, all.end()));
    resumed.set_epoch(2, 8);  // first_batch == size(): an empty epoch
    CHECK(epoch_batches(resumed).empty());
    CHECK_THROWS_AS(resumed.set_epoch(0, 9), Error);
    CHECK_THROWS_AS(resumed.set_epoch(-1), Error);
  }

  TEST_CASE("workers build at most num_workers * prefetch batches ahead") {
    auto data = std::make_shared<Numbers>(1000);
    DataLoader loader(data, 10, false, false, 0, /*num_workers=*/2, /*prefetch=*/1);
    auto it = loader.begin();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The batch held plus two in flight or ready.
    CHECK(data->calls.load() <= 30);
    CHECK(it->labels.to_vector<int64_t>()[0] == 0);
  }

  TEST_CASE("leaving the loop early stops the workers; the loader can run again") {
    auto data = std::make_shared<Numbers>(400, /*uneven_delays=*/true);
    DataLoader loader(data, 4, true, false, 5, /*num_workers=*/4, /*prefetch=*/4);
    int seen = 0;
    for (const Batch& b : loader) {
      (void)b;
      if (++seen == 2)
        break;  // the iterator dies here and joins its workers
    }
    CHECK(seen == 2);
    CHECK(epoch_batches(loader).size() == 100);  // epoch 1, complete
    {
      auto it = loader.begin();  // abandoned without consuming anything
    }
    const auto start = std::chrono::steady_clock::now();
    {
      DataLoader short_lived(data, 4, true, false, 5, 4, 4);
      auto it = short_lived.begin();
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  }

  TEST_CASE("an error while building a batch is rethrown in the consumer") {
    auto data = std::make_shared<Numbers>(50, false, /*fail_at=*/23);
    for (int workers : {0, 2}) {
      CAPTURE(workers);
      DataLoader loader(data, 5, false, false, 0, workers);
      int received = 0;
      std::string message;
      try {
        for (const Batch& b : loader) {
          (void)b;
          ++received;
        }
      } catch (const Error& e) {
        message = e.what();
      }
      CHECK(received == 4);  // batches 0-3; batch 4 holds sample 23
      CHECK(message.find("bad sample 23") != std::string::npos);
    }
  }

  TEST_CASE("images of different shapes in one batch are an error") {
    class Ragged : public Dataset {
     public:
      int64_t size() const override { return 4; }
      using Dataset::get;
      Example get(int64_t i, Generator&) const override { return {zeros({1, 1, 1 + i % 2}), i}; }
    };
    DataLoader loader(std::make_shared<Ragged>(), 2);
    CHECK_THROWS_WITH_AS(loader.begin(),
                         "DataLoader: example 1 has a float32 image of shape [1, 1, 2] (expected float32 [1, 1, 1], "
                         "like example 0 of the same batch)",
                         Error);
  }

  TEST_CASE("CIFAR through the loader with the train preset, 0 and 2 workers alike") {
    const auto dir = std::filesystem::temp_directory_path() / ("qnn_test_loader_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "five.bin").string();
    {
      std::ofstream out(path, std::ios::binary);
      for (int r = 0; r < 5; ++r) {
        out.put(static_cast<char>(r * 2));
        for (int k = 0; k < 3072; ++k)
          out.put(static_cast<char>((k * (r + 3)) % 256));
      }
    }
    auto data = std::make_shared<Cifar>(CifarVariant::Cifar10, std::vector<std::string>{path}, cifar_train_transform());
    std::filesystem::remove_all(dir);
    DataLoader serial(data, 2, true, false, 9, 0), threaded(data, 2, true, false, 9, 2);
    const std::vector<Batch> s = epoch_batches(serial);
    REQUIRE(s.size() == 3);
    CHECK(s[0].images.shape() == Shape{2, 3, 32, 32});
    CHECK(s[2].images.shape() == Shape{1, 3, 32, 32});
    check_same(s, epoch_batches(threaded));
    // Sample i of the batch is the dataset's get(i) with the sample's generator.
    const int64_t i = serial.order(0)[0];
    Generator gen(sample_seed(9, 0, i));
    const Example ex = data->get(i, gen);
    CHECK(s[0].labels.to_vector<int64_t>()[0] == ex.label);
    CHECK(s[0].images.select(0, 0).to_vector<float>() == ex.image.to_vector<float>());
  }

  TEST_CASE("real CIFAR-10 test batch through the loader (QNN_DATA_DIR)") {
    const char* data_dir = std::getenv("QNN_DATA_DIR");
    if (!data_dir) {
      MESSAGE("skipped: QNN_DATA_DIR is not set (expected the folder holding cifar-10-batches-bin/)");
      return;
    }
    auto test = std::make_shared<Cifar>(std::string(data_dir) + "/cifar-10-batches-bin", CifarVariant::Cifar10,
                                        Split::Test, cifar_test_transform(kImageNetMean, kImageNetStd));
    DataLoader loader(test, 1000, false, false, 0, 2);
    std::vector<int64_t> per_class(10, 0);
    int64_t images = 0;
    for (const Batch& b : loader) {
      images += b.images.size(0);
      for (int64_t l : b.labels.to_vector<int64_t>())
        ++per_class.at(static_cast<size_t>(l));
    }
    CHECK(images == 10000);
    CHECK(per_class == std::vector<int64_t>(10, 1000));
  }
}
