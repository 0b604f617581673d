// The histogram SVG writer of `qnn qat`: bin counts (values outside the range go to the end bins)
// and a document with one panel per snapshot and one dashed line per level of Q.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/svg_histogram.h"
#include "core/error.h"
#include "engine/qat_training.h"

using namespace qnn::apps;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

}  // namespace

TEST_SUITE("svg_histogram") {
  TEST_CASE("counts: even bins over [lo, hi], outliers clamped to the end bins") {
    const std::vector<float> v = {-5.0f, -1.0f, -0.6f, -0.5f, 0.0f, 0.49f, 0.5f, 0.99f, 3.0f};
    const std::vector<int64_t> c =
        qnn::engine::histogram_counts(v.data(), static_cast<int64_t>(v.size()), -1.0, 1.0, 4);
    // bins [-1,-0.5) [-0.5,0) [0,0.5) [0.5,1]
    CHECK(c == std::vector<int64_t>{3, 1, 2, 3});
  }

  TEST_CASE("the document has a panel per snapshot and a line per level in range") {
    Histogram h;
    h.title = "layer <x> & y";
    h.lo = -1.0;
    h.hi = 1.0;
    h.panels.push_back({"epoch 0", {1, 2, 3, 0}, {}, {}});
    h.panels.push_back({"epoch 3", {0, 5, 5, 0}, {-0.5f, 0.5f, 2.0f}, {}});  // 2.0 is out of range
    const std::string svg = histogram_svg(h);
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
    CHECK(svg.find("layer &lt;x&gt; &amp; y") != std::string::npos);
    CHECK(count_of(svg, "stroke-dasharray") == 2);
    CHECK(count_of(svg, "fill=\"#4878b0\"") == 5);  // non-empty bins only
  }

  TEST_CASE("an overlay is one outline per panel that has one, with its legend") {
    Histogram h;
    h.fill_label = "latent u";
    h.panels.push_back({"epoch 0", {1, 2, 3, 0}, {}, {}});
    h.panels.push_back({"epoch 1", {1, 2, 3, 0}, {-0.5f, 0.5f}, {0, 6, 0, 6}});
    const std::string svg = histogram_svg(h);
    CHECK(count_of(svg, "<polyline") == 1);
    CHECK(svg.find("filled: latent u") != std::string::npos);
    // the outline's own peak is printed (6), beside the filled series' peak (3)
    CHECK(svg.find(">6</text>") != std::string::npos);
    Histogram plain;
    plain.panels.push_back({"epoch 0", {1, 2, 3, 0}, {}, {}});
    CHECK(histogram_svg(plain).find("filled:") == std::string::npos);
  }
}

TEST_CASE("a QAT run's histogram record becomes at most 6 panels: start, spaced epochs, last, final") {
  nlohmann::json record = {{"title", "t"}, {"lo", -1.0}, {"hi", 1.0}, {"snapshots", nlohmann::json::array()}};
  for (int epoch = 0; epoch <= 10; ++epoch)
    record["snapshots"].push_back({{"epoch", epoch},
                                   {"label", "x"},
                                   {"counts", std::vector<int64_t>{1, 2}},
                                   {"counts_w", std::vector<int64_t>{0, 3}},
                                   {"levels", std::vector<float>{-0.5f, 0.5f}}});
  record["snapshots"].push_back(
      {{"epoch", -1}, {"label", "final"}, {"counts", std::vector<int64_t>{0, 3}}, {"levels", std::vector<float>{}}});
  const Histogram h = histogram_from_record(record);
  REQUIRE(h.panels.size() == 6);
  CHECK(h.panels.front().title == "epoch 0: x");
  CHECK(h.panels[4].title == "epoch 10: x");
  CHECK(h.panels.back().title == "after training: final");
  CHECK(h.panels[1].overlay == std::vector<int64_t>{0, 3});
  CHECK(h.panels.back().overlay.empty());
  CHECK(histogram_svg(h).find("</svg>") != std::string::npos);
}

TEST_CASE("write_latent_histogram_svg draws a run folder's latent_histogram.json") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("qnn_test_hist_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const nlohmann::json record = {
      {"title", "layer1.0.conv1.weight: parq 2-bit"},
      {"lo", -1.0},
      {"hi", 1.0},
      {"snapshots",
       {{{"epoch", 0}, {"label", "start"}, {"counts", {1, 2, 3}}, {"levels", nlohmann::json::array()}},
        {{"epoch", -1}, {"label", "final"}, {"counts", {0, 6, 0}}, {"levels", {-0.2, 0.2}}}}}};
  std::ofstream(dir / "latent_histogram.json") << record.dump();
  write_latent_histogram_svg(dir.string());
  std::ifstream in(dir / "latent_histogram.svg");
  const std::string svg((std::istreambuf_iterator<char>(in)), {});
  CHECK(svg.find("layer1.0.conv1.weight: parq 2-bit") != std::string::npos);
  CHECK(svg.find("after training: final") != std::string::npos);
  std::filesystem::remove_all(dir);
  CHECK_THROWS_AS(write_latent_histogram_svg(dir.string()), qnn::Error);  // no record: a clear error
}
