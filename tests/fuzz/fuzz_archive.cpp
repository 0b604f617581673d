// extract_archive (datasets/archive.h, libarchive with its secure extraction flags) on any bytes,
// into a fresh folder each time: every path it reports must lie inside that folder.
//
// The process may write at most 64 MB to any one file (RLIMIT_FSIZE, SIGXFSZ ignored): a small
// compressed input can expand a thousandfold, and the scratch folder is usually /dev/shm (memory).
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <filesystem>

#include "datasets/archive.h"
#include "tests/fuzz/fuzz_target.h"

namespace fs = std::filesystem;

namespace {

bool limit_file_size() {
  ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_FSIZE, &limit) == 0) {
    const rlim_t cap = rlim_t{64} << 20;
    if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > cap) {
      limit.rlim_cur = cap;
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
  }
  return true;
}

}  // namespace

QNN_FUZZ_TARGET(archive) {
  const char* kName = "archive";
  [[maybe_unused]] static const bool limited = limit_file_size();
  const std::string in = qnn::fuzz::write_scratch("in.archive", data, size);
  const fs::path dir = qnn::fuzz::scratch_path("out");
  std::error_code ec;
  fs::remove_all(dir, ec);
  qnn::fuzz::expect_qnn_errors_only(kName, [&] {
    const std::vector<std::string> written = qnn::data::extract_archive(in, dir.string());
    const fs::path root = fs::canonical(dir);
    for (const std::string& name : written) {
      const fs::path p = (root / name).lexically_normal();
      const auto [end, _] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
      FUZZ_ASSERT(kName, end == root.end());
    }
  });
  fs::remove_all(dir, ec);
  return 0;
}
