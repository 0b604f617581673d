#include "datasets/dataloader.h"

#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "core/error.h"

namespace qnn::data {

namespace {

// Copies `src` (any strides) into contiguous bytes at dst. A plain loop rather than qnn::copy_:
// this runs in worker threads, where copy_'s OpenMP loops would start a thread team per worker.
void copy_to_contiguous(char* dst, const Tensor& src) {
  const size_t elem = dtype_size(src.dtype());
  const char* base = static_cast<const char*>(src.raw_data());
  if (src.is_contiguous()) {
    std::memcpy(dst, base, static_cast<size_t>(src.numel()) * elem);
    return;
  }
  const Shape& shape = src.shape();
  const Shape& strides = src.strides();
  const int64_t n = src.numel(), dims = src.dim();
  Shape pos(dims, 0);
  int64_t offset = 0;  // of element `pos`, in elements
  for (int64_t k = 0; k < n; ++k) {
    std::memcpy(dst + k * elem, base + offset * static_cast<int64_t>(elem), elem);
    for (int64_t d = dims - 1; d >= 0; --d) {  // odometer step
      if (++pos[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= (shape[d] - 1) * strides[d];
      pos[d] = 0;
    }
  }
}

}  // namespace

Batch collate(const Dataset& dataset, const int64_t* indices, int64_t count, uint64_t seed, int64_t epoch) {
  QNN_CHECK(count > 0, "DataLoader", "got an empty batch (expected at least one example)");
  Batch batch;
  batch.epoch = epoch;
  batch.labels = Tensor::empty({count}, DType::Int64);
  int64_t* labels = batch.labels.data<int64_t>();
  Shape image_shape;
  size_t image_bytes = 0;
  char* images = nullptr;
  for (int64_t k = 0; k < count; ++k) {
    const int64_t i = indices[k];
    Generator gen(sample_seed(seed, epoch, i));
    const Example ex = dataset.get(i, gen);
    QNN_CHECK(ex.image.defined() && ex.image.device().is_cpu(), "DataLoader",
              "example " << i << " has an undefined or non-CPU image");
    if (k == 0) {
      image_shape = ex.image.shape();
      Shape shape{count};
      shape.insert(shape.end(), image_shape.begin(), image_shape.end());
      batch.images = Tensor::empty(shape, ex.image.dtype());
      images = static_cast<char*>(batch.images.raw_data());
      image_bytes = static_cast<size_t>(ex.image.numel()) * dtype_size(ex.image.dtype());
    }
    QNN_CHECK(ex.image.shape() == image_shape && ex.image.dtype() == batch.images.dtype(), "DataLoader",
              "example " << i << " has a " << ex.image.dtype() << " image of shape " << shape_str(ex.image.shape())
                         << " (expected " << batch.images.dtype() << " " << shape_str(image_shape) << ", like example "
                         << indices[0] << " of the same batch)");
    copy_to_contiguous(images + static_cast<size_t>(k) * image_bytes, ex.image);
    labels[k] = ex.label;
  }
  return batch;
}

// ---- one epoch in flight --------------------------------------------------------------------

class DataLoader::Run {
 public:
  Run(const DataLoader& loader, int64_t epoch, int64_t first_batch)
      : dataset_(loader.dataset_),
        order_(loader.order(epoch)),
        batch_size_(loader.batch_size_),
        num_batches_(loader.size()),
        epoch_(epoch),
        seed_(loader.seed_),
        next_(first_batch),
        next_build_(first_batch),
        capacity_(static_cast<int64_t>(loader.num_workers_) * loader.prefetch_) {
    try {
      for (int w = 0; w < loader.num_workers_; ++w)
        threads_.emplace_back([this] { work(); });
    } catch (...) {
      stop_and_join();  // a thread that could not start must not leave the others running
      throw;
    }
  }
  ~Run() { stop_and_join(); }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  bool done() const { return done_; }
  const Batch& current() const { return current_; }

  // Makes the next batch current, or marks the run done. Rethrows a failure of that batch.
  void advance() {
    current_ = Batch();  // release the consumed batch before waiting for the next one
    if (next_ >= num_batches_) {
      done_ = true;
      return;
    }
    if (threads_.empty()) {
      done_ = true;  // stays done if build() throws
      current_ = build(next_++);
      done_ = false;
      return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_) > 0; });
    auto node = ready_.extract(next_);
    ++next_;
    lock.unlock();
    work_cv_.notify_all();  // a slot is free: one more batch may be built
    if (node.mapped().second) {
      done_ = true;
      std::rethrow_exception(node.mapped().second);
    }
    current_ = std::move(node.mapped().first);
  }

 private:
  Batch build(int64_t k) const {
    const int64_t begin = k * batch_size_;
    const int64_t count = std::min<int64_t>(batch_size_, static_cast<int64_t>(order_.size()) - begin);
    Batch b = collate(*dataset_, order_.data() + begin, count, seed_, epoch_);
    b.index = k;
    return b;
  }

  void work() {
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return stop_ || next_build_ >= num_batches_ || next_build_ < next_ + capacity_; });
      if (stop_ || next_build_ >= num_batches_)
        return;
      const int64_t k = next_build_++;
      lock.unlock();
      std::pair<Batch, std::exception_ptr> result;
      try {
        result.first = build(k);
      } catch (...) {
        result.second = std::current_exception();
      }
      lock.lock();
      ready_.emplace(k, std::move(result));
      lock.unlock();
      ready_cv_.notify_all();
    }
  }

  void stop_and_join() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : threads_)
      t.join();  // a worker in the middle of a batch finishes it first: bounded, never a hang
    threads_.clear();
  }

  const std::shared_ptr<const Dataset> dataset_;
  const std::vector<int64_t> order_;
  const int64_t batch_size_, num_batches_, epoch_;
  const uint64_t seed_;
  Batch current_;
  bool done_ = false;

  // Shared with the workers, under mutex_. next_ is the next batch to hand out: batches
  // [next_, next_ + capacity_) may be built ahead, so memory stays bounded however slow the consumer.
  std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_, next_build_;
  const int64_t capacity_;
  bool stop_ = false;
  std::map<int64_t, std::pair<Batch, std::exception_ptr>> ready_;
  std::vector<std::thread> threads_;
};

// ---- DataLoader -----------------------------------------------------------------------------

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle, bool drop_last,
                       uint64_t seed, int num_workers, int prefetch)
    : dataset_(std::move(dataset)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      seed_(seed),
      num_workers_(num_workers),
      prefetch_(prefetch) {
  QNN_CHECK(dataset_, "DataLoader", "got no dataset");
  QNN_CHECK(batch_size > 0, "DataLoader", "got batch_size " << batch_size << " (expected > 0)");
  QNN_CHECK(num_workers >= 0, "DataLoader", "got num_workers " << num_workers << " (expected >= 0)");
  QNN_CHECK(prefetch > 0, "DataLoader", "got prefetch " << prefetch << " (expected > 0)");
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void DataLoader::set_epoch(int64_t epoch, int64_t first_batch) {
  QNN_CHECK(epoch >= 0, "DataLoader::set_epoch", "got epoch " << epoch << " (expected >= 0)");
  QNN_CHECK(first_batch >= 0 && first_batch <= size(), "DataLoader::set_epoch",
            "got first_batch " << first_batch << " (expected 0 <= first_batch <= " << size() << ")");
  epoch_ = epoch;
  first_batch_ = first_batch;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  const int64_t n = dataset_->size();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[i] = i;
  if (shuffle_) {
    // Fisher-Yates with a generator of its own: index -1 is no sample's, so this stream is
    // distinct from every per-sample one of the same (seed, epoch).
    Generator gen(sample_seed(seed_, epoch, -1));
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[gen.integer(0, i + 1)]);
  }
  return order;
}

Batch DataLoader::batch(int64_t epoch, int64_t index) const {
  QNN_CHECK(index >= 0 && index < size(), "DataLoader::batch",
            "got index " << index << " (expected 0 <= index < " << size() << ")");
  const std::vector<int64_t> ord = order(epoch);
  const int64_t begin = index * batch_size_;
  const int64_t count = std::min<int64_t>(batch_size_, static_cast<int64_t>(ord.size()) - begin);
  Batch b = collate(*dataset_, ord.data() + begin, count, seed_, epoch);
  b.index = index;
  return b;
}

DataLoader::Iterator DataLoader::begin() {
  auto run = std::make_shared<Run>(*this, epoch_, first_batch_);
  ++epoch_;
  first_batch_ = 0;
  run->advance();
  return Iterator(std::move(run));
}

const Batch& DataLoader::Iterator::operator*() const {
  QNN_CHECK(run_ && !run_->done(), "DataLoader", "dereferenced an iterator past the end");
  return run_->current();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  QNN_CHECK(run_ && !run_->done(), "DataLoader", "advanced an iterator past the end");
  run_->advance();
  return *this;
}

bool DataLoader::Iterator::operator==(End) const { return !run_ || run_->done(); }

}  // namespace qnn::data
