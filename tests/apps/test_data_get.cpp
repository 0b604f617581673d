// `qnn data get`: the whole download-check-unpack against a local HTTP server (python3 -m
// http.server on 127.0.0.1) serving an archive of shared/data's CIFAR-10 files. The MD5 and the
// extraction on their own: tests/datasets/test_download.cpp.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "apps/data_get.h"
#include "core/error.h"
#include "datasets/checksum.h"
#include "tests/temp_dir.h"

using namespace qnn;
using namespace qnn::apps;
namespace fs = std::filesystem;
using qnn::testing::read_file;
using qnn::testing::TempDir;
using qnn::testing::write_file;

namespace {

int run(const std::string& command) { return std::system(command.c_str()); }

// A free TCP port on 127.0.0.1 (bound once by us, then released for the server).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  close(s);
  return ntohs(addr.sin_port);
}

// python3 -m http.server serving `dir`, stopped when this goes out of scope.
class LocalServer {
 public:
  explicit LocalServer(const fs::path& dir) : port_(free_port()) {
    pid_ = fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      execlp("python3", "python3", "-m", "http.server", port.c_str(), "--bind", "127.0.0.1", "--directory", dir.c_str(),
             static_cast<char*>(nullptr));
      _exit(127);
    }
    // Wait until it accepts connections (at most ~10 s).
    for (int i = 0; i < 200 && !accepting(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~LocalServer() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string url(const std::string& file) const { return "http://127.0.0.1:" + std::to_string(port_) + "/" + file; }
  bool accepting() const {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(s);
    return ok;
  }

 private:
  int port_;
  pid_t pid_;
};

// The MD5 Python's hashlib gives (an independent implementation).
std::string python_md5(const fs::path& file) {
  const fs::path out = file.string() + ".md5";
  REQUIRE(run("python3 -c \"import hashlib,sys; print(hashlib.md5(open(sys.argv[1],'rb').read()).hexdigest())\" " +
              file.string() + " > " + out.string()) == 0);
  std::string s = read_file(out);
  fs::remove(out);
  return s.substr(0, 32);
}

}  // namespace

TEST_CASE("data get: download from a local server, check the MD5, unpack") {
  const TempDir tmp("data", "get");
  const fs::path& d = tmp.path;
  // The archive: the real CIFAR-10 batches when QNN_DATA_DIR is set (Release builds only: it is
  // 180 MB), else a small stand-in folder of the same name.
  const char* root = std::getenv("QNN_DATA_DIR");
  fs::path source = d / "src";
#if defined(__SANITIZE_ADDRESS__)
  root = nullptr;
#endif
  if (root && *root) {
    source = fs::path(root);
  } else {
    MESSAGE("QNN_DATA_DIR unset (or sanitizer build): serving a small stand-in archive");
    write_file(source / "cifar-10-batches-bin/test_batch.bin", std::string(3073 * 3, '\x07'));
  }
  fs::create_directories(d / "www");
  REQUIRE(run("tar -czf " + (d / "www/cifar-10-binary.tar.gz").string() + " -C " + source.string() +
              " cifar-10-batches-bin") == 0);
  const std::string md5 = python_md5(d / "www/cifar-10-binary.tar.gz");
  CHECK(data::md5_of_file((d / "www/cifar-10-binary.tar.gz").string()) == md5);
  LocalServer server(d / "www");
  REQUIRE(server.accepting());

  DataGetOptions o;
  o.name = "cifar10";
  o.dir = (d / "data").string();
  o.url = server.url("cifar-10-binary.tar.gz");
  o.md5 = md5;
  std::ostringstream log;
  const std::string folder = get_dataset(o, log);
  CHECK(folder == (d / "data/cifar-10-batches-bin").string());
  for (const auto& entry : fs::directory_iterator(source / "cifar-10-batches-bin"))
    CHECK_MESSAGE(read_file(entry.path()) == read_file(fs::path(folder) / entry.path().filename()), entry.path());
  CHECK_FALSE(fs::exists(d / "data/cifar-10-binary.tar.gz"));  // removed after unpacking

  // A wrong checksum is an error and leaves no archive behind; a missing file names the URL.
  o.md5 = std::string(32, '0');
  CHECK_THROWS_WITH_AS(get_dataset(o, log), doctest::Contains("expected 00000000"), Error);
  CHECK_FALSE(fs::exists(d / "data/cifar-10-binary.tar.gz"));
  o.url = server.url("missing.tar.gz");
  CHECK_THROWS_WITH_AS(get_dataset(o, log), doctest::Contains("HTTP status 404"), Error);
  o.name = "mnist";
  CHECK_THROWS_WITH_AS(get_dataset(o, log), doctest::Contains("expected cifar10 or cifar100"), Error);
}
