// Every committed input of the fuzz targets, replayed in the ordinary test build: the seed
// corpora (tests/fuzz/corpus/<target>/) and the inputs of crashes the fuzzers found, fixed since
// (tests/fuzz/regressions/<target>/). A target aborts on a finding, so a passing run means none of
// them crashes, hangs or throws anything but qnn::Error; under ASan+UBSan (.ci/run) the memory
// checks come with it. The fuzzers themselves build with -DQNN_FUZZ=ON (tests/fuzz/README.md).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/registry.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir))
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
        files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_SUITE("fuzz") {
  TEST_CASE("every target has a seed corpus, and replays it and its regressions") {
    const fs::path root = QNN_FUZZ_DIR;
    const auto& targets = qnn::fuzz::targets();
    CHECK(targets.size() == 6);
    for (const auto& [name, fn] : targets) {
      CAPTURE(name);
      const std::vector<fs::path> seeds = inputs_in(root / "corpus" / name);
      CHECK(!seeds.empty());
      std::vector<fs::path> all = seeds;
      for (const fs::path& p : inputs_in(root / "regressions" / name))
        all.push_back(p);
      for (const fs::path& p : all) {
        const std::string input = p.string();
        CAPTURE(input);
        const std::string bytes = bytes_of(p);
        CHECK(fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
      }
      MESSAGE(name << ": " << seeds.size() << " seeds, " << all.size() - seeds.size() << " regressions replayed");
    }
  }
}
