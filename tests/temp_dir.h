#pragma once
// Scratch folders and whole-file reads and writes for tests that put files on disk, written once
// here instead of in each suite.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace qnn::testing {

// A fresh empty folder, <system temp>/qnn_test_<prefix>_<name>_<pid>, removed when it goes out of
// scope. The prefix names the suite and the name the case; the pid keeps concurrent runs of the
// suites apart.
struct TempDir {
  std::filesystem::path path;

  TempDir(const std::string& prefix, const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("qnn_test_" + prefix + "_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;  // a destructor must not throw; a folder left behind is harmless
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // path / name as a string, for APIs that take one.
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// The bytes of `p`, or "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces `p` with `bytes`, creating its parent folders first.
inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  if (p.has_parent_path())
    std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace qnn::testing
