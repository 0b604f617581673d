#include "datasets/cifar.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace qnn::data {

namespace {
constexpr int64_t kOfficialBatch = 10000;  // records per CIFAR-10 batch file and per test file
constexpr int64_t kCifar100Train = 50000;
}  // namespace

std::vector<std::string> Cifar::official_files(CifarVariant variant, Split split) {
  if (variant == CifarVariant::Cifar100)
    return {split == Split::Train ? "train.bin" : "test.bin"};
  if (split == Split::Test)
    return {"test_batch.bin"};
  return {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
}

Cifar::Cifar(const std::string& dir, CifarVariant variant, Split split, TransformPtr transform)
    : variant_(variant), transform_(std::move(transform)) {
  std::vector<std::string> paths;
  for (const std::string& name : official_files(variant, split))
    paths.push_back((std::filesystem::path(dir) / name).string());
  const bool big = variant == CifarVariant::Cifar100 && split == Split::Train;
  load(paths, big ? kCifar100Train : kOfficialBatch);
}

Cifar::Cifar(CifarVariant variant, const std::vector<std::string>& files, TransformPtr transform)
    : variant_(variant), transform_(std::move(transform)) {
  QNN_CHECK(!files.empty(), "Cifar", "got no files (expected at least one)");
  load(files, 0);
}

// Reads every file whole (one read per file), then scatters the records into the image and label
// tensors. records_per_file = 0 accepts any whole number of records.
void Cifar::load(const std::vector<std::string>& paths, int64_t records_per_file) {
  const int64_t record = record_bytes(variant_);
  const bool fine_and_coarse = variant_ == CifarVariant::Cifar100;
  std::vector<int64_t> counts;
  for (const std::string& path : paths) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    QNN_CHECK(!ec, "Cifar",
              path << ": cannot read (" << ec.message() << "; expected "
                   << (records_per_file ? std::to_string(records_per_file * record) + " bytes"
                                        : "a file of " + std::to_string(record) + "-byte records")
                   << ")");
    const auto size = static_cast<int64_t>(bytes);
    if (records_per_file)
      QNN_CHECK(size == records_per_file * record, "Cifar",
                path << ": got " << size << " bytes (expected " << records_per_file * record << ": " << records_per_file
                     << " records of " << record << " bytes)");
    else
      QNN_CHECK(
          size > 0 && size % record == 0, "Cifar",
          path << ": got " << size << " bytes (expected a non-zero multiple of the record size " << record << ")");
    counts.push_back(size / record);
  }
  int64_t total = 0;
  for (int64_t c : counts)
    total += c;

  images_ = Tensor::empty({total, kChannels, kHeight, kWidth}, DType::UInt8);
  labels_ = Tensor::empty({total}, DType::Int64);
  coarse_labels_ = fine_and_coarse ? Tensor::empty({total}, DType::Int64) : Tensor();
  uint8_t* images = images_.data<uint8_t>();
  int64_t* labels = labels_.data<int64_t>();
  int64_t* coarse = fine_and_coarse ? coarse_labels_.data<int64_t>() : nullptr;

  std::vector<char> buffer;
  int64_t n = 0;
  for (size_t f = 0; f < paths.size(); ++f) {
    const std::string& path = paths[f];
    buffer.resize(static_cast<size_t>(counts[f] * record));
    std::ifstream in(path, std::ios::binary);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    QNN_CHECK(in && in.gcount() == static_cast<std::streamsize>(buffer.size()), "Cifar",
              path << ": short read (expected " << buffer.size() << " bytes)");
    const auto* rec = reinterpret_cast<const uint8_t*>(buffer.data());
    for (int64_t r = 0; r < counts[f]; ++r, ++n, rec += record) {
      const int64_t label = rec[record - kImageBytes - 1];  // the last label byte is the fine one
      QNN_CHECK(label < num_classes(), "Cifar",
                path << ": record " << r << " has label " << label << " (expected < " << num_classes()
                     << "; is this the right CIFAR variant?)");
      labels[n] = label;
      if (coarse) {
        QNN_CHECK(rec[0] < 20, "Cifar",
                  path << ": record " << r << " has coarse label " << int{rec[0]} << " (expected < 20)");
        coarse[n] = rec[0];
      }
      std::memcpy(images + n * kImageBytes, rec + (record - kImageBytes), kImageBytes);
    }
  }
}

const uint8_t* Cifar::pixels(int64_t i) const {
  QNN_CHECK(i >= 0 && i < size(), "Cifar", "got index " << i << " (expected 0 <= index < " << size() << ")");
  return images_.data<uint8_t>() + i * kImageBytes;
}

int64_t Cifar::label(int64_t i) const {
  QNN_CHECK(i >= 0 && i < size(), "Cifar", "got index " << i << " (expected 0 <= index < " << size() << ")");
  return labels_.data<int64_t>()[i];
}

Tensor Cifar::raw_image(int64_t i) const {
  QNN_CHECK(i >= 0 && i < size(), "Cifar", "got index " << i << " (expected 0 <= index < " << size() << ")");
  return make_view(images_, {kChannels, kHeight, kWidth}, {kHeight * kWidth, kWidth, 1}, i * kImageBytes);
}

Example Cifar::get(int64_t i, Generator& gen) const {
  const Tensor raw = raw_image(i);
  Tensor image = transform_ ? (*transform_)(raw, gen) : ToTensor()(raw, gen);
  return {std::move(image), label(i)};
}

}  // namespace qnn::data
