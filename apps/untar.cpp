#include "apps/untar.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/error.h"

namespace qnn::apps {

namespace fs = std::filesystem;

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

// Reads exactly n bytes; false at a clean end of the stream before the first byte.
bool read_exactly(gzFile f, char* out, size_t n, const std::string& archive) {
  size_t got = 0;
  while (got < n) {
    const int r = gzread(f, out + got, static_cast<unsigned>(n - got));
    if (r < 0) {
      int code = 0;
      throw Error("data: " + archive + " is not a valid .tar.gz (" + gzerror(f, &code) + ")");
    }
    if (r == 0) {
      QNN_CHECK(got == 0, "data", archive << " is truncated (expected " << n << " more bytes of a tar record)");
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

// A tar header field of octal digits (ASCII, NUL- or space-terminated).
uint64_t octal_field(const char* field, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width && field[i] >= '0' && field[i] <= '7'; ++i)
    v = v * 8 + static_cast<uint64_t>(field[i] - '0');
  return v;
}

std::string string_field(const char* field, size_t width) { return std::string(field, strnlen(field, width)); }

void check_safe(const std::string& name, const std::string& archive) {
  const fs::path p(name);
  QNN_CHECK(!p.is_absolute(), "data", archive << " holds an absolute path '" << name << "' (refused)");
  for (const auto& part : p)
    QNN_CHECK(part != "..", "data", archive << " holds a path with '..': '" << name << "' (refused)");
}

}  // namespace

std::vector<std::string> extract_tar_gz(const std::string& archive, const std::string& dir) {
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(archive.c_str(), "rb"));
  QNN_CHECK(f != nullptr, "data", "cannot open " << archive);
  std::vector<std::string> written;
  std::string long_name;  // from a GNU 'L' record, for the next entry
  char header[512];
  std::vector<char> buffer(1 << 20);
  while (read_exactly(f.get(), header, sizeof header, archive)) {
    if (std::all_of(header, header + sizeof header, [](char c) { return c == 0; }))
      break;  // the end-of-archive marker
    uint64_t checksum = 0;
    for (size_t i = 0; i < sizeof header; ++i)
      checksum += (i >= 148 && i < 156) ? ' ' : static_cast<uint8_t>(header[i]);
    QNN_CHECK(checksum == octal_field(header + 148, 8), "data", archive << " has a corrupt tar header");
    const char type = header[156];
    const uint64_t size = octal_field(header + 124, 12);
    std::string name = string_field(header, 100);
    const std::string prefix = std::memcmp(header + 257, "ustar", 5) == 0 ? string_field(header + 345, 155) : "";
    if (!prefix.empty())
      name = prefix + "/" + name;
    if (!long_name.empty()) {
      name = long_name;
      long_name.clear();
    }
    const uint64_t padded = (size + 511) / 512 * 512;
    if (type == 'L') {  // GNU long name: the data is the next entry's name
      std::string text(padded, '\0');
      read_exactly(f.get(), text.data(), padded, archive);
      long_name = text.substr(0, strnlen(text.data(), size));
      continue;
    }
    check_safe(name, archive);
    const fs::path target = fs::path(dir) / name;
    if (type == '5') {
      fs::create_directories(target);
      continue;
    }
    if (type != '0' && type != '\0') {  // links, devices, pax headers: skip their data
      for (uint64_t left = padded; left > 0;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
        read_exactly(f.get(), buffer.data(), n, archive);
        left -= n;
      }
      continue;
    }
    fs::create_directories(target.parent_path());
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    QNN_CHECK(out.good(), "data", "cannot write " << target.string());
    for (uint64_t left = padded; left > 0;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
      QNN_CHECK(read_exactly(f.get(), buffer.data(), n, archive), "data", archive << " is truncated inside " << name);
      const uint64_t data_left = left > padded - size ? left - (padded - size) : 0;  // bytes of file data still due
      out.write(buffer.data(), static_cast<std::streamsize>(std::min<uint64_t>(n, data_left)));
      left -= n;
    }
    QNN_CHECK(out.good(), "data", "cannot write " << target.string() << " (disk full?)");
    written.push_back(name);
  }
  return written;
}

}  // namespace qnn::apps
