#include "tests/fuzz/fuzz_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <system_error>

#include "tests/fuzz/registry.h"

namespace qnn::fuzz {

namespace fs = std::filesystem;

namespace {

struct Scratch {
  std::string dir;
  Scratch() {
    fs::path base;
    std::error_code ec;
    if (const char* env = std::getenv("QNN_FUZZ_SCRATCH"); env && *env)
      base = env;
    else if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0)
      base = "/dev/shm";
    else
      base = fs::temp_directory_path();
    dir = (base / ("qnn_fuzz_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

const std::string& scratch_dir() {
  static const Scratch scratch;
  return scratch.dir;
}

std::string scratch_path(const std::string& name) { return scratch_dir() + "/" + name; }

std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_path(name);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    fail("write_scratch", "cannot create " + path);
  size_t done = 0;
  while (done < size) {
    const ssize_t put = ::write(fd, data + done, size - done);
    if (put <= 0) {
      ::close(fd);
      fail("write_scratch", "cannot write " + path);
    }
    done += static_cast<size_t>(put);
  }
  ::close(fd);
  return path;
}

bool verbose() {
  static const bool on = std::getenv("QNN_FUZZ_VERBOSE") != nullptr;
  return on;
}

void fail(const char* target, const std::string& what) {
  std::fprintf(stderr, "fuzz target %s: %s\n", target, what.c_str());
  std::fflush(stderr);
  std::abort();
}

#ifndef QNN_FUZZ_LIBFUZZER
std::map<std::string, TargetFn>& targets() {
  static std::map<std::string, TargetFn> all;
  return all;
}

bool register_target(const char* name, TargetFn fn) {
  targets()[name] = fn;
  return true;
}
#endif

}  // namespace qnn::fuzz
