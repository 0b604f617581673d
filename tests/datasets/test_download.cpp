// The dataset-getting helpers that need no network: md5_of_file (RFC 1321's test vectors, a file
// spanning many read chunks, unreadable paths). The download itself is tested against a local
// server in tests/apps/test_data_get.cpp.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "datasets/checksum.h"

using namespace qnn;
using namespace qnn::data;
namespace fs = std::filesystem;

namespace {

// A fresh empty folder under the system temp folder, removed when the test ends (the pid keeps
// concurrent runs of the suite apart).
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) {
    path = fs::temp_directory_path() / ("qnn_test_download_" + name + "_" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// doctest's matcher takes its own string type.
doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

std::string md5_of(const std::string& text, const fs::path& dir) {
  write_file(dir / "md5_input", text);
  return md5_of_file((dir / "md5_input").string());
}

}  // namespace

TEST_CASE("md5_of_file gives RFC 1321's test-suite digests") {
  TempDir d("md5");
  CHECK(md5_of("", d.path) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_of("a", d.path) == "0cc175b9c0f1b6a831c399e269772661");
  CHECK(md5_of("abc", d.path) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_of("message digest", d.path) == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5_of("abcdefghijklmnopqrstuvwxyz", d.path) == "c3fcd3d76192e4007dfb496cca67e13b");
  std::string digits;
  for (int i = 0; i < 8; ++i)
    digits += "1234567890";
  CHECK(md5_of(digits, d.path) == "57edf4a22be3c955ac49da2e2107b67a");
  // A million 'a's (the classic long vector): read in many chunks, the last one partial.
  CHECK(md5_of(std::string(1000000, 'a'), d.path) == "7707d6ae4e027c70eea2a935c2296f21");
}

TEST_CASE("md5_of_file names a path it cannot read") {
  TempDir d("md5_errors");
  const std::string missing = (d.path / "missing.tar.gz").string();
  CHECK_THROWS_WITH_AS(md5_of_file(missing), contains("cannot open " + missing), Error);
  // A folder opens but cannot be read: an error, not the digest of nothing.
  CHECK_THROWS_WITH_AS(md5_of_file(d.path.string()), contains("cannot read " + d.path.string()), Error);
}
