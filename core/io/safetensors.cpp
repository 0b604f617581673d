#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/file_checks.h"
#include "core/io/json_check.h"

namespace qnn {

// The data section is copied byte for byte into tensors, which is only right on little-endian hosts.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

constexpr const char* kLoad = "load_safetensors";
constexpr const char* kSave = "save_safetensors";
constexpr const char* kMetadataKey = "__metadata__";
// The format's reference parser (safetensors' MAX_HEADER_SIZE) refuses longer headers.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// A header is at most 3 levels deep (object > entry > shape); extra keys of an entry may nest a
// little more. The limit keeps the recursive parts of nlohmann (dump() in messages) shallow.
constexpr int kMaxHeaderDepth = 64;

std::string errno_text() { return std::strerror(errno); }

bool dtype_from_name(const std::string& name, DType& out) {
  for (DType t : {DType::Float32, DType::Int64, DType::Int32, DType::UInt8})
    if (name == safetensors_dtype_name(t)) {
      out = t;
      return true;
    }
  return false;
}

// Closes a file descriptor on every path out of a function.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

// Reads exactly n bytes at `offset` (pread may return less than asked).
bool read_exact(int fd, void* dst, size_t n, uint64_t offset) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    p += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

bool write_all(int fd, const void* src, size_t n) {
  const auto* p = static_cast<const char*>(src);
  while (n > 0) {
    const ssize_t put = ::write(fd, p, n);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return false;
    p += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

// One tensor as the header describes it, validated against the size of the data section.
struct Entry {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& value, uint64_t data_size) {
  Entry e;
  e.name = name;
  QNN_CHECK(value.is_object(), kLoad,
            path << ": tensor '" << name << "' is " << value.type_name()
                 << " (expected an object with dtype, shape and data_offsets)");

  const auto dtype_it = value.find("dtype");
  QNN_CHECK(dtype_it != value.end() && dtype_it->is_string(), kLoad,
            path << ": tensor '" << name << "' has no dtype string (expected one of F32, I64, I32, U8)");
  const std::string dtype_name = dtype_it->get<std::string>();
  QNN_CHECK(
      dtype_from_name(dtype_name, e.dtype), kLoad,
      path << ": tensor '" << name << "' has unknown dtype '" << dtype_name << "' (expected one of F32, I64, I32, U8)");

  const auto shape_it = value.find("shape");
  QNN_CHECK(shape_it != value.end() && shape_it->is_array(), kLoad,
            path << ": tensor '" << name << "' has no shape array (expected e.g. \"shape\": [16, 3, 3, 3])");
  // The byte count is computed in unsigned 64-bit with overflow checks: a corrupted shape like
  // [2^40, 2^40] must be an error, not a wrapped-around small number that happens to match.
  // The strides of the tensor multiply the sizes with 0 read as 1: that product must fit in an
  // int64 too, or a shape like [0, 2^40, 2^40] (no bytes) would overflow them.
  uint64_t nbytes = dtype_size(e.dtype);
  int64_t span = 1;
  for (const auto& s : *shape_it) {
    QNN_CHECK(
        s.is_number_unsigned() && s.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), kLoad,
        path << ": tensor '" << name << "' has shape " << shape_it->dump() << " (expected non-negative integers)");
    const uint64_t size = s.get<uint64_t>();
    QNN_CHECK(!__builtin_mul_overflow(nbytes, size, &nbytes) &&
                  !__builtin_mul_overflow(span, std::max<int64_t>(static_cast<int64_t>(size), 1), &span),
              kLoad,
              path << ": tensor '" << name << "' has shape " << shape_it->dump() << " whose byte size overflows");
    e.shape.push_back(static_cast<int64_t>(size));
  }

  const auto off_it = value.find("data_offsets");
  const bool offsets_ok = off_it != value.end() && off_it->is_array() && off_it->size() == 2 &&
                          (*off_it)[0].is_number_unsigned() && (*off_it)[1].is_number_unsigned();
  QNN_CHECK(offsets_ok, kLoad,
            path << ": tensor '" << name << "' has data_offsets "
                 << (off_it == value.end() ? "missing" : off_it->dump())
                 << " (expected [begin, end], non-negative integers)");
  e.begin = (*off_it)[0].get<uint64_t>();
  e.end = (*off_it)[1].get<uint64_t>();
  QNN_CHECK(e.begin <= e.end && e.end <= data_size, kLoad,
            path << ": tensor '" << name << "' has data_offsets [" << e.begin << ", " << e.end
                 << "] out of range (expected begin <= end <= " << data_size
                 << ", the size of the data section; the file may be truncated)");
  QNN_CHECK(e.end - e.begin == nbytes, kLoad,
            path << ": tensor '" << name << "' of dtype " << dtype_name << " and shape " << shape_str(e.shape)
                 << " needs " << nbytes << " bytes (data_offsets [" << e.begin << ", " << e.end << "] span "
                 << e.end - e.begin << ")");
  return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const nlohmann::json& value) {
  QNN_CHECK(value.is_object(), kLoad,
            path << ": __metadata__ is " << value.type_name() << " (expected an object of strings)");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    QNN_CHECK(v.is_string(), kLoad,
              path << ": __metadata__ value of '" << key << "' is " << v.type_name() << " (expected a string)");
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

}  // namespace

const char* safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "F32";
    case DType::Int64:
      return "I64";
    case DType::Int32:
      return "I32";
    case DType::UInt8:
      return "U8";
  }
  return "?";
}

const Tensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name)
      return &t;
  return nullptr;
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  const Tensor* t = find(name);
  QNN_CHECK(t, "SafetensorsFile::at", "no tensor named '" << name << "' (the file has " << tensors.size() << ")");
  return *t;
}

SafetensorsFile load_safetensors(const std::string& path) {
  // Before open(): opening a FIFO blocks until a writer comes. O_NONBLOCK covers a path swapped
  // for one in between (fstat below then refuses it); it changes nothing for a regular file.
  check_input_file(path, kLoad);
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  QNN_CHECK(file.fd >= 0, kLoad, path << ": cannot open (" << errno_text() << ")");
  struct stat st {};
  QNN_CHECK(::fstat(file.fd, &st) == 0 && S_ISREG(st.st_mode), kLoad,
            path << ": not a regular file (expected a regular file)");
  const auto file_size = static_cast<uint64_t>(st.st_size);

  QNN_CHECK(file_size >= 8, kLoad,
            path << ": truncated: " << file_size << " bytes (expected at least 8 for the header length)");
  unsigned char len_bytes[8];
  QNN_CHECK(read_exact(file.fd, len_bytes, 8, 0), kLoad, path << ": cannot read the header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | len_bytes[i];
  QNN_CHECK(header_len <= file_size - 8, kLoad,
            path << ": header length " << header_len << " is beyond the file size " << file_size
                 << " (expected at most " << file_size - 8 << "; truncated or not a safetensors file)");
  QNN_CHECK(header_len <= kMaxHeaderBytes, kLoad,
            path << ": header length " << header_len << " is above the format's limit (expected at most "
                 << kMaxHeaderBytes << " bytes, 100 MB, as the reference parser)");
  const uint64_t data_start = 8 + header_len, data_size = file_size - data_start;

  std::string header(header_len, '\0');
  QNN_CHECK(read_exact(file.fd, header.data(), header_len, 8), kLoad, path << ": cannot read the header");

  // Linear in the header's length (nlohmann's parse callback would be quadratic in its entries),
  // nesting bounded, and no name twice: the format forbids it, and silently keeping one of two
  // tensors of the same name would hide a broken writer.
  const nlohmann::json json =
      parse_checked_json(header, std::string(kLoad) + ": " + path + ": header",
                         {kMaxHeaderDepth, /*unique_top_level_keys=*/true, "name -> {dtype, shape, data_offsets}"});
  QNN_CHECK(json.is_object(), kLoad, path << ": header is a JSON " << json.type_name() << " (expected an object)");

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : json.items()) {
    if (name == kMetadataKey)
      out.metadata = parse_metadata(path, value);
    else
      entries.push_back(parse_entry(path, name, value, data_size));
  }

  // File order. Empty tensors take no bytes, so they may share an offset with anything; only
  // non-empty spans must be disjoint.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : (a.end != b.end ? a.end < b.end : a.name < b.name);
  });
  const Entry* last = nullptr;  // the non-empty span that ends furthest so far
  for (const Entry& e : entries) {
    if (e.begin == e.end)
      continue;
    QNN_CHECK(!last || e.begin >= last->end, kLoad,
              path << ": tensors '" << last->name << "' [" << last->begin << ", " << last->end << "] and '" << e.name
                   << "' [" << e.begin << ", " << e.end << "] overlap (expected disjoint data_offsets)");
    last = &e;
  }

  out.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    QNN_CHECK(read_exact(file.fd, t.raw_data(), e.end - e.begin, data_start + e.begin), kLoad,
              path << ": cannot read the data of tensor '" << e.name << "'");
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Header first: it needs every tensor's byte span, and validating names before creating the
  // temporary file means a bad call leaves nothing behind.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata)
      meta[k] = v;
    header[kMetadataKey] = std::move(meta);
  }
  std::vector<Tensor> contiguous;
  contiguous.reserve(tensors.size());
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    QNN_CHECK(name != kMetadataKey, kSave, path << ": a tensor may not be named " << kMetadataKey);
    QNN_CHECK(!header.contains(name), kSave, path << ": tensor name '" << name << "' given twice (expected unique)");
    QNN_CHECK(t.defined(), kSave, path << ": tensor '" << name << "' is undefined");
    // detach: the copies below are I/O, not part of any graph.
    Tensor c = t.detach().to(Device::cpu()).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(c.numel()) * dtype_size(c.dtype());
    header[name] = {{"dtype", safetensors_dtype_name(c.dtype())},
                    {"shape", c.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    contiguous.push_back(std::move(c));
  }
  std::string text = header.dump();
  // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned, as PyTorch's
  // writer does; readers that mmap the file can then view F32/I64 data in place.
  text.append((8 - text.size() % 8) % 8, ' ');

  // Only over a regular file or a new path: the rename below would replace a device or a FIFO.
  check_output_file(path, kSave);
  // The temporary files of earlier writes of this path that were killed before their rename.
  remove_stale_temp_files(path);
  const std::string tmp = temp_file_for(path);
  Fd file{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  QNN_CHECK(file.fd >= 0, kSave, path << ": cannot create " << tmp << " (" << errno_text() << ")");
  auto fail = [&](const std::string& what) {
    const std::string reason = errno_text();
    if (file.fd >= 0)
      ::close(file.fd);
    file.fd = -1;
    ::unlink(tmp.c_str());
    throw Error(std::string(kSave) + ": " + path + ": " + what + " (" + reason + ")");
  };
  unsigned char len_bytes[8];
  uint64_t len = text.size();
  for (unsigned char& b : len_bytes) {
    b = static_cast<unsigned char>(len & 0xff);
    len >>= 8;
  }
  if (!write_all(file.fd, len_bytes, 8) || !write_all(file.fd, text.data(), text.size()))
    fail("cannot write the header to " + tmp);
  for (const Tensor& c : contiguous)
    if (!write_all(file.fd, c.raw_data(), static_cast<size_t>(c.numel()) * dtype_size(c.dtype())))
      fail("cannot write the data to " + tmp);
  // fsync before rename: otherwise a crash can leave the new name pointing at unwritten blocks.
  if (::fsync(file.fd) != 0)
    fail("cannot flush " + tmp);
  if (::close(file.fd) != 0) {
    file.fd = -1;
    fail("cannot close " + tmp);
  }
  file.fd = -1;
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot rename " + tmp + " to " + path);
  // Make the rename itself durable. A directory that cannot be opened (unusual permissions) only
  // loses that guarantee, the file is already in place, so this is best effort.
  std::string dir = std::filesystem::path(path).parent_path().string();
  Fd d{::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0)
    ::fsync(d.fd);
}

}  // namespace qnn
