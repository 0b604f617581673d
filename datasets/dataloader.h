#pragma once
// DataLoader: batches of a Dataset, in a seeded order, built ahead by worker threads.
//
//   auto loader = DataLoader(train, /*batch_size=*/128, /*shuffle=*/true, /*drop_last=*/true,
//                            /*seed=*/1, /*num_workers=*/4, /*prefetch=*/2);
//   for (int64_t e = 0; e < epochs; ++e)
//     for (const Batch& b : loader) { ... b.images [B, C, H, W], b.labels [B] ... }
//
// Reproducibility: the order of epoch e is a permutation drawn from (seed, e), and sample i of
// epoch e is transformed with Generator(sample_seed(seed, e, i)). So batches depend only on
// (seed, epoch, batch index): not on the number of workers or how threads were scheduled, and
// a run resumes exactly with set_epoch(e, first_batch).
//
// Each `for` over the loader runs one epoch, epoch(), and advances epoch() by one when it starts.
// Workers run only while an iteration is alive: leaving the loop early (break, exception)
// destroys the iterator, which stops and joins them. An exception thrown while building a batch
// (a bad file, a bad transform) is rethrown in the consuming thread when that batch is reached.
#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/dataset.h"

namespace qnn::data {

struct Batch {
  Tensor images;  // [B, C, H, W], the dtype the dataset returns (float32 after ToTensor)
  Tensor labels;  // [B] int64
  int64_t epoch = 0;
  int64_t index = 0;  // position of this batch in its epoch
};

class DataLoader {
 public:
  // num_workers = 0 builds each batch in the consuming thread when it is asked for. With
  // num_workers > 0, at most num_workers * prefetch batches are built but not yet consumed.
  DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle = false, bool drop_last = false,
             uint64_t seed = 0, int num_workers = 0, int prefetch = 2);

  int64_t size() const;  // batches per epoch
  int64_t batch_size() const { return batch_size_; }
  const Dataset& dataset() const { return *dataset_; }

  // The next `for` runs epoch `epoch`, starting at batch `first_batch` (to resume mid-epoch).
  void set_epoch(int64_t epoch, int64_t first_batch = 0);
  int64_t epoch() const { return epoch_; }

  // The dataset indices of `epoch`, in the order they are batched.
  std::vector<int64_t> order(int64_t epoch) const;
  // Batch `index` of `epoch`, built in the calling thread (what the workers run).
  Batch batch(int64_t epoch, int64_t index) const;

  class Run;  // one epoch in flight: its order, workers and finished batches
  struct End {};
  class Iterator {
   public:
    const Batch& operator*() const;
    const Batch* operator->() const { return &**this; }
    Iterator& operator++();
    bool operator==(End) const;

   private:
    friend class DataLoader;
    explicit Iterator(std::shared_ptr<Run> run) : run_(std::move(run)) {}
    std::shared_ptr<Run> run_;
  };
  Iterator begin();
  End end() const { return {}; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  int64_t batch_size_;
  bool shuffle_, drop_last_;
  uint64_t seed_;
  int num_workers_, prefetch_;
  int64_t epoch_ = 0, first_batch_ = 0;
};

// Builds one batch from the given dataset indices: image of indices[k] transformed with
// Generator(sample_seed(seed, epoch, indices[k])). All images must have one shape and dtype.
Batch collate(const Dataset& dataset, const int64_t* indices, int64_t count, uint64_t seed, int64_t epoch);

}  // namespace qnn::data
