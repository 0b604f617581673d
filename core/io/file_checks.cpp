#include "core/io/file_checks.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace qnn {

namespace fs = std::filesystem;

namespace {

const char* type_name(fs::file_type type) {
  switch (type) {
    case fs::file_type::none:
    case fs::file_type::not_found:
      return "nothing (no such file)";
    case fs::file_type::regular:
      return "a regular file";
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::symlink:
      return "a symbolic link";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::socket:
      return "a socket";
    case fs::file_type::unknown:
      return "of an unknown type";
  }
  return "of an unknown type";
}

}  // namespace

std::string describe_file_type(const std::string& path) {
  std::error_code ec;
  return type_name(fs::status(path, ec).type());
}

void check_input_file(const std::string& path, const char* op) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  QNN_CHECK(st.type() != fs::file_type::not_found, op, path << ": cannot open (No such file or directory)");
  QNN_CHECK(!ec, op, path << ": cannot open (" << ec.message() << ")");
  QNN_CHECK(st.type() == fs::file_type::regular, op,
            path << ": not a regular file: it is " << type_name(st.type()) << " (expected a regular file)");
}

void check_output_file(const std::string& path, const char* op) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found)
    return;  // a new file (or a dangling symbolic link, which the rename replaces)
  QNN_CHECK(!ec, op, path << ": cannot inspect the output path (" << ec.message() << ")");
  QNN_CHECK(st.type() == fs::file_type::regular, op,
            path << ": refusing to write over " << type_name(st.type()) << " (expected a regular file or a new path)");
}

std::string temp_file_for(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

int remove_stale_temp_files(const std::string& path) {
  const fs::path target(path);
  const std::string prefix = target.filename().string() + ".tmp.";
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  int removed = 0;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
      continue;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    pid_t pid = 0;
    const auto [ptr, err] = std::from_chars(first, last, pid);
    if (err != std::errc() || ptr != last || pid <= 0 || pid == ::getpid())
      continue;  // not "<digits>", or this process's own
    // ESRCH: no such process. EPERM means it runs under another user: not stale.
    if (::kill(pid, 0) == 0 || errno != ESRCH)
      continue;
    std::error_code type_ec;
    if (!fs::is_regular_file(fs::symlink_status(it->path(), type_ec)))
      continue;
    std::error_code rm_ec;
    if (fs::remove(it->path(), rm_ec))
      ++removed;
  }
  return removed;
}

}  // namespace qnn
