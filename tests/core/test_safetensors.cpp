// safetensors read/write: round trips of every dtype (0-d, empty, non-contiguous inputs), a file laid
// out by hand like PyTorch's writer (tests/tools/gen_safetensors.py), corrupted files, and, with
// QNN_DATA_DIR, the real ResNet-20 checkpoint.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "core/ops.h"
#include "tests/error_of.h"
#include "tests/temp_dir.h"

using qnn::testing::error_of;
using namespace qnn;
namespace fs = std::filesystem;
using qnn::testing::read_file;
using qnn::testing::TempDir;
using qnn::testing::write_file;

namespace {

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A file with the given header text and `data_bytes` bytes of data.
std::string raw_file(const std::string& header, size_t data_bytes) {
  return le64(header.size()) + header + std::string(data_bytes, '\x01');
}

// The bytes of a tensor's elements in row-major order.
std::string bytes_of(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), static_cast<size_t>(c.numel()) * dtype_size(c.dtype()));
}

// The pid of a process that has exited (a child, reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0)
    ::_exit(0);
  REQUIRE(pid > 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

template <class T>
std::vector<T> json_values(const nlohmann::json& v) {
  std::vector<T> out;
  for (const auto& x : v)
    out.push_back(static_cast<T>(x.get<double>()));
  return out;
}

}  // namespace

TEST_SUITE("safetensors") {
  TEST_CASE("round trip: every dtype, 0-d, empty and non-contiguous tensors, metadata") {
    TempDir dir("safetensors", "roundtrip");
    const std::string path = dir.file("t.safetensors");
    Generator gen(7);
    Tensor f = randn({3, 4}, gen);
    Tensor big = from_vector<int64_t>({0, -1, int64_t{1} << 40, INT64_MIN, INT64_MAX}, {5});
    Tensor i32 = from_vector<int32_t>({INT32_MIN, -2, 3, INT32_MAX}, {2, 2});
    Tensor u8 = from_vector<uint8_t>({0, 1, 128, 255, 7, 9}, {1, 2, 3});
    Tensor scalar = scalar_tensor(-0.75f);
    Tensor empty_f = zeros({0, 5});
    Tensor empty_u8 = Tensor::empty({2, 0}, DType::UInt8);
    Tensor x = arange(0.0, 24.0).reshape({2, 3, 4});
    Tensor transposed = x.transpose(0, 2);                                // [4, 3, 2], non-contiguous
    Tensor stepped = x.slice(2, 1, 4, 2);                                 // [2, 3, 2] with a step
    Tensor expanded = from_vector<float>({1, 2}, {1, 2}).expand({3, 2});  // stride 0
    const std::vector<std::pair<std::string, Tensor>> saved = {
        {"z.last_name_first", f}, {"big", big},          {"i32", i32},           {"u8", u8},
        {"scalar", scalar},       {"empty_f", empty_f},  {"empty_u8", empty_u8}, {"transposed", transposed},
        {"stepped", stepped},     {"expanded", expanded}};
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"epoch", "12"}, {"empty", ""}};
    save_safetensors(path, saved, meta);

    // The data starts 8-byte aligned, and no temporary file is left behind.
    const std::string bytes = read_file(path);
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    CHECK(header_len % 8 == 0);
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) {
      (void)entry;
      ++files;
    }
    CHECK(files == 1);

    const SafetensorsFile loaded = load_safetensors(path);
    CHECK(loaded.metadata == meta);
    REQUIRE(loaded.tensors.size() == saved.size());
    for (size_t k = 0; k < saved.size(); ++k) {
      const auto& [name, want] = saved[k];
      const Tensor& got = loaded.tensors[k].second;
      CAPTURE(name);
      CHECK(loaded.tensors[k].first == name);  // the order of the call is the file order
      CHECK(got.dtype() == want.dtype());
      CHECK(got.shape() == want.shape());
      // (is_contiguous() of core says false for some empty shapes such as [2, 0]; nothing to check there.)
      if (got.numel() > 0)
        CHECK(got.is_contiguous());
      CHECK(bytes_of(got) == bytes_of(want));
    }
    CHECK(loaded.at("transposed").to_vector<float>() ==
          std::vector<float>{0, 12, 4, 16, 8, 20, 1, 13, 5, 17, 9, 21, 2, 14, 6, 18, 10, 22, 3, 15, 7, 19, 11, 23});
    CHECK(loaded.at("stepped").to_vector<float>() == std::vector<float>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23});
    CHECK(loaded.at("expanded").to_vector<float>() == std::vector<float>{1, 2, 1, 2, 1, 2});
    CHECK(loaded.at("scalar").dim() == 0);
    CHECK(loaded.at("scalar").item() == -0.75f);
    CHECK(loaded.find("missing") == nullptr);
    CHECK_THROWS_AS(loaded.at("missing"), Error);
  }

  TEST_CASE("save replaces an existing file; no metadata means no __metadata__ entry") {
    TempDir dir("safetensors", "replace");
    const std::string path = dir.file("t.safetensors");
    save_safetensors(path, {{"a", ones({100})}}, {{"k", "v"}});
    save_safetensors(path, {{"b", zeros({2})}});
    const SafetensorsFile loaded = load_safetensors(path);
    REQUIRE(loaded.tensors.size() == 1);
    CHECK(loaded.tensors[0].first == "b");
    CHECK(loaded.metadata.empty());
    CHECK(read_file(path).find("__metadata__") == std::string::npos);
    // An empty file list is a valid file too.
    save_safetensors(path, {});
    CHECK(load_safetensors(path).tensors.empty());
  }

  TEST_CASE("save rejects bad names and undefined tensors before writing") {
    TempDir dir("safetensors", "save_errors");
    const std::string path = dir.file("t.safetensors");
    CHECK(error_of([&] {
            save_safetensors(path, {{"a", ones({1})}, {"a", ones({2})}});
          }).find("given twice") != std::string::npos);
    CHECK(error_of([&] { save_safetensors(path, {{"__metadata__", ones({1})}}); }).find(path) != std::string::npos);
    CHECK(error_of([&] { save_safetensors(path, {{"u", Tensor()}}); }).find("undefined") != std::string::npos);
    CHECK(!fs::exists(path));
    CHECK(error_of([&] {
            save_safetensors(dir.file("no/such/dir/t.safetensors"), {{"a", ones({1})}});
          }).find("no/such/dir/t.safetensors") != std::string::npos);
  }

  TEST_CASE("reads a file laid out like PyTorch's writer (tests/tools/gen_safetensors.py)") {
    const std::string dir = QNN_TEST_DATA_DIR;
    std::ifstream in(dir + "/small_safetensors.json");
    REQUIRE_MESSAGE(in.good(), "missing tests/data/small_safetensors.json (run tests/tools/gen_safetensors.py)");
    const nlohmann::json expected = nlohmann::json::parse(in);
    const std::string path = dir + "/small.safetensors";
    const SafetensorsFile file = load_safetensors(path);

    CHECK(file.metadata == expected["metadata"].get<std::map<std::string, std::string>>());
    const auto order = expected["order"].get<std::vector<std::string>>();
    REQUIRE(file.tensors.size() == order.size());
    for (size_t k = 0; k < order.size(); ++k) {
      const std::string& name = order[k];
      CAPTURE(name);
      CHECK(file.tensors[k].first == name);  // data order, not the header's alphabetical order
      const Tensor& t = file.tensors[k].second;
      const nlohmann::json& e = expected["tensors"][name];
      CHECK(safetensors_dtype_name(t.dtype()) == e["dtype"].get<std::string>());
      CHECK(t.shape() == e["shape"].get<Shape>());
      switch (t.dtype()) {
        case DType::Float32:
          CHECK(t.to_vector<float>() == json_values<float>(e["values"]));
          break;
        case DType::Int64:
          CHECK(t.to_vector<int64_t>() == e["values"].get<std::vector<int64_t>>());
          break;
        case DType::Int32:
          CHECK(t.to_vector<int32_t>() == e["values"].get<std::vector<int32_t>>());
          break;
        case DType::UInt8:
          CHECK(t.to_vector<uint8_t>() == e["values"].get<std::vector<uint8_t>>());
          break;
      }
    }

    // Written back by qnn in the same order, the data section is byte-identical to PyTorch's.
    TempDir tmp("safetensors", "rewrite");
    save_safetensors(tmp.file("t.safetensors"), file.tensors, file.metadata);
    auto data_section = [](const std::string& bytes) {
      uint64_t n = 0;
      std::memcpy(&n, bytes.data(), 8);
      return bytes.substr(8 + n);
    };
    CHECK(data_section(read_file(tmp.file("t.safetensors"))) == data_section(read_file(path)));
  }

  TEST_CASE("corrupted files are errors naming the path and the problem") {
    TempDir dir("safetensors", "corrupt");
    const std::string path = dir.file("bad.safetensors");
    auto expect_error = [&](const std::string& bytes, const std::string& what) {
      write_file(path, bytes);
      const std::string msg = error_of([&] { load_safetensors(path); });
      CAPTURE(msg);
      CHECK(msg.find("load_safetensors") != std::string::npos);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
    };
    const std::string ok = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    write_file(path, raw_file(ok, 8));
    CHECK(load_safetensors(path).tensors.size() == 1);  // the base case is valid

    const std::string missing = dir.file("missing.safetensors");
    const std::string msg = error_of([&] { load_safetensors(missing); });
    CHECK(msg.find(missing) != std::string::npos);
    CHECK(msg.find("cannot open") != std::string::npos);

    expect_error("", "truncated");
    expect_error(std::string("\x10\0\0", 3), "truncated");
    expect_error(le64(1000) + ok, "beyond the file size");
    expect_error(le64(UINT64_MAX) + ok, "beyond the file size");
    expect_error(raw_file(ok, 7), "out of range");  // data cut short
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8), "not valid JSON");
    expect_error(raw_file("[1, 2]", 0), "expected an object");
    expect_error(raw_file(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4), "unknown dtype 'F16'");
    expect_error(raw_file(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "no dtype");
    expect_error(raw_file(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), "no shape");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "non-negative");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8), "data_offsets");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8), "data_offsets");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "out of range");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 12), "needs 12 bytes");
    expect_error(raw_file(R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}})", 16), "needs 16 bytes");
    expect_error(raw_file(R"({"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
                 "overflows");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                          12),
                 "overlap");
    expect_error(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                          16),
                 "twice");
    expect_error(raw_file(R"({"a":7})", 0), "expected an object with dtype");
    expect_error(raw_file(R"({"__metadata__":{"k":1}})", 0), "expected a string");
    expect_error(raw_file(R"({"__metadata__":[]})", 0), "__metadata__");

    // Empty tensors take no bytes: sharing an offset with a non-empty one is not an overlap.
    write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("e":{"dtype":"F32","shape":[0,4],"data_offsets":[4,4]}})",
                              8));
    const SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.tensors.size() == 2);
    CHECK(f.tensors[0].first == "a");
    CHECK(f.at("e").shape() == Shape{0, 4});
    // A directory is not a file.
    CHECK(error_of([&] { load_safetensors(dir.path.string()); }).find("not a regular file") != std::string::npos);
  }

  TEST_CASE("headers: duplicates among many entries, the 100 MB cap, the nesting limit") {
    TempDir dir("safetensors", "header_limits");
    const std::string path = dir.file("h.safetensors");
    // 20,000 empty tensors (quadratic parsing took 4.6 s for this many), then one name again.
    std::string header = "{";
    for (int i = 0; i < 20000; ++i)
      header += "\"t" + std::to_string(i) + R"(":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)";
    const std::string last = R"("t19999":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}})";
    write_file(path, raw_file(header.substr(0, header.size() - 1) + "}", 0));
    CHECK(load_safetensors(path).tensors.size() == 20000);
    write_file(path, raw_file(header + last, 0));
    std::string msg = error_of([&] { load_safetensors(path); });
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("names 't19999' twice") != std::string::npos);
    // Only the top level's names must be unique: a repeated key inside an entry is JSON's business.
    write_file(path, raw_file(R"({"a":{"dtype":"F32","dtype":"F32","shape":[0],"data_offsets":[0,0]}})", 0));
    CHECK(load_safetensors(path).tensors.size() == 1);

    // A header just above the cap in a file long enough to hold it (sparse: no disk space used).
    write_file(path, le64(100'000'001) + "{}");
    REQUIRE(::truncate(path.c_str(), 8 + 100'000'001) == 0);
    msg = error_of([&] { load_safetensors(path); });
    CAPTURE(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("header length 100000001 is above the format's limit") != std::string::npos);
    CHECK(msg.find("at most 100000000 bytes") != std::string::npos);

    // Deep nesting is refused before it is built (dump() in messages recurses).
    write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":)" + std::string(100, '[') + std::string(100, ']') +
                                  R"(,"data_offsets":[0,0]}})",
                              0));
    msg = error_of([&] { load_safetensors(path); });
    CHECK(msg.find("nests deeper than 64 levels") != std::string::npos);
    // [0, 2^40, 2^40] holds no bytes, but its strides would overflow int64.
    write_file(path, raw_file(R"({"a":{"dtype":"F32","shape":[0,1099511627776,1099511627776],)"
                              R"("data_offsets":[0,0]}})",
                              0));
    CHECK(error_of([&] { load_safetensors(path); }).find("overflows") != std::string::npos);
  }

  TEST_CASE("load refuses a FIFO, a folder and a missing path without blocking") {
    TempDir dir("safetensors", "fifo_in");
    const std::string fifo = dir.file("weights.safetensors");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto result = std::async(std::launch::async, [&] { return error_of([&] { load_safetensors(fifo); }); });
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      // The reader is stuck in open(): give it a writer so the test fails instead of hanging.
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0)
        ::close(fd);
      FAIL("load_safetensors blocked on a FIFO");
    }
    const std::string msg = result.get();
    CAPTURE(msg);
    CHECK(msg.find(fifo) != std::string::npos);
    CHECK(msg.find("is a FIFO (expected a regular file)") != std::string::npos);
    CHECK(error_of([&] { load_safetensors(dir.path.string()); }).find("is a directory") != std::string::npos);
    CHECK(error_of([&] { load_safetensors(dir.file("none")); }).find("No such file") != std::string::npos);
  }

  TEST_CASE("save writes only over regular files or new paths") {
    TempDir dir("safetensors", "fifo_out");
    const std::vector<std::pair<std::string, Tensor>> tensors = {{"a", ones({2})}};
    auto refused = [&](const std::string& target, const std::string& what) {
      const std::string msg = error_of([&] { save_safetensors(target, tensors); });
      CAPTURE(msg);
      CHECK(msg.find("save_safetensors") != std::string::npos);
      CHECK(msg.find(target) != std::string::npos);
      CHECK(msg.find("refusing to write over " + what) != std::string::npos);
      CHECK(msg.find("expected a regular file or a new path") != std::string::npos);
    };
    const std::string fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    refused(fifo, "a FIFO");
    CHECK(fs::is_fifo(fifo));  // still the FIFO, not replaced by a regular file
    const std::string folder = dir.file("folder");
    fs::create_directory(folder);
    refused(folder, "a directory");
    const std::string link = dir.file("link");
    fs::create_symlink(fifo, link);
    refused(link, "a FIFO");
    CHECK(fs::is_symlink(fs::symlink_status(link)));
    // Nothing was left behind: the FIFO, the folder and the link only.
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 3);

    // A regular file and a symbolic link to one are replaced (the link itself, not its target).
    const std::string file = dir.file("t.safetensors");
    save_safetensors(file, tensors);
    const std::string file_link = dir.file("to_file");
    fs::create_symlink(file, file_link);
    save_safetensors(file_link, {{"b", zeros({3})}});
    CHECK(!fs::is_symlink(fs::symlink_status(file_link)));
    CHECK(load_safetensors(file).tensors.at(0).first == "a");
    CHECK(load_safetensors(file_link).tensors.at(0).first == "b");
  }

  TEST_CASE("save removes the temporary files of killed writes of the same path") {
    TempDir dir("safetensors", "stale_tmp");
    const std::string path = dir.file("last.safetensors");
    const std::string stale = path + ".tmp." + std::to_string(dead_pid());
    const std::string alive = path + ".tmp.1";  // pid 1 runs: maybe a write in progress
    const std::string other = dir.file("best.safetensors.tmp.") + std::to_string(dead_pid());  // another target
    const std::string not_pid = path + ".tmp.x1";
    for (const std::string& p : {stale, alive, other, not_pid})
      write_file(p, "partial");
    save_safetensors(path, {{"a", ones({2})}});
    CHECK(!fs::exists(stale));
    CHECK(fs::exists(alive));
    CHECK(fs::exists(other));
    CHECK(fs::exists(not_pid));
    CHECK(load_safetensors(path).tensors.size() == 1);
  }

  TEST_CASE("real checkpoint: ResNet-20 from QNN_DATA_DIR") {
    const char* data_dir = std::getenv("QNN_DATA_DIR");
    if (!data_dir) {
      MESSAGE("skipped: QNN_DATA_DIR is not set (expected the folder holding pretrained/resnet20.safetensors)");
      return;
    }
    const SafetensorsFile file = load_safetensors(std::string(data_dir) + "/pretrained/resnet20.safetensors");
    CHECK(file.tensors.size() == 97);
    CHECK(file.tensors.front().first == "conv1.weight");
    CHECK(file.at("conv1.weight").shape() == Shape{16, 3, 3, 3});
    CHECK(file.at("linear.weight").shape() == Shape{10, 64});
    CHECK(file.metadata.at("normalize_std") == "0.229,0.224,0.225");
    for (const auto& [name, t] : file.tensors)
      CHECK(t.dtype() == DType::Float32);
  }
}
