// The dataset-getting helpers that need no network: md5_of_file (RFC 1321's test vectors, a file
// spanning many read chunks, unreadable paths) and extract_archive on archives built here with
// tar and Python (a round trip, links, and the refusals and errors that keep an archive inside its
// folder). The download itself is tested against a local server in tests/apps/test_data_get.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/archive.h"
#include "datasets/checksum.h"
#include "tests/temp_dir.h"

using namespace qnn;
using namespace qnn::data;
namespace fs = std::filesystem;
using qnn::testing::read_file;
using qnn::testing::TempDir;
using qnn::testing::write_file;

namespace {

// doctest's matcher takes its own string type.
doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

int run(const std::string& command) { return std::system(command.c_str()); }

std::string md5_of(const std::string& text, const fs::path& dir) {
  write_file(dir / "md5_input", text);
  return md5_of_file((dir / "md5_input").string());
}

// Bytes that gzip cannot shrink much, so a truncated .tar.gz loses file data, not just padding.
std::string noise(size_t size) {
  std::string s(size, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// A one-entry .tar.gz whose entry is named `name` (Python's tarfile writes any name as given): a
// two-byte file, or with `hardlink_to`, a hard link to that path.
void python_tar(const fs::path& archive, const std::string& name, const std::string& hardlink_to = "") {
  REQUIRE(
      run("python3 -c \"import tarfile,io,sys; t=tarfile.open(sys.argv[1],'w:gz'); i=tarfile.TarInfo(sys.argv[2]); "
          "link=sys.argv[3:]; i.type=tarfile.LNKTYPE if link else tarfile.REGTYPE; i.linkname=link[0] if link else ''; "
          "i.size=0 if link else 2; t.addfile(i, None if link else io.BytesIO(b'hi')); t.close()\" " +
          archive.string() + " " + name + " " + hardlink_to) == 0);
}

}  // namespace

TEST_CASE("md5_of_file gives RFC 1321's test-suite digests") {
  TempDir d("download", "md5");
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
  TempDir d("download", "md5_errors");
  const std::string missing = (d.path / "missing.tar.gz").string();
  CHECK_THROWS_WITH_AS(md5_of_file(missing), contains("cannot open " + missing), Error);
  // A folder opens but cannot be read: an error, not the digest of nothing.
  CHECK_THROWS_WITH_AS(md5_of_file(d.path.string()), contains("cannot read " + d.path.string()), Error);
}

TEST_CASE("extract_archive unpacks what tar packed and refuses paths outside the folder") {
  TempDir t("download", "untar");
  const fs::path& d = t.path;
  std::string big(70000, 'x');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  write_file(d / "src/top/a.txt", "hello\n");
  write_file(d / "src/top/sub/big.bin", big);
  write_file(d / "src/top" / (std::string(120, 'n') + ".txt"), "long name\n");  // GNU long-name record
  REQUIRE(run("tar -czf " + (d / "a.tar.gz").string() + " -C " + (d / "src").string() + " top") == 0);
  std::vector<std::string> files = extract_archive((d / "a.tar.gz").string(), (d / "out").string());
  CHECK(files.size() == 3);
  CHECK(read_file(d / "out/top/a.txt") == "hello\n");
  CHECK(read_file(d / "out/top/sub/big.bin") == big);
  CHECK(read_file(d / "out/top" / (std::string(120, 'n') + ".txt")) == "long name\n");
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"top/a.txt", "top/" + std::string(120, 'n') + ".txt", "top/sub/big.bin"});

  python_tar(d / "evil.tar.gz", "../escaped.txt");
  const std::string evil = (d / "evil.tar.gz").string();
  CHECK_THROWS_WITH_AS(extract_archive(evil, (d / "out2").string()), doctest::Contains("'..'"), Error);
  CHECK_THROWS_WITH_AS(extract_archive(evil, (d / "out2").string()),
                       contains(evil + ": entry '../escaped.txt' refused"), Error);
  CHECK_FALSE(fs::exists(d / "escaped.txt"));

  // An absolute name is refused, not written there, nor quietly moved under the folder.
  const fs::path target = d / "absolute.txt";
  python_tar(d / "abs.tar.gz", target.string());
  CHECK_THROWS_WITH_AS(extract_archive((d / "abs.tar.gz").string(), (d / "out3").string()),
                       contains("entry '" + target.string() + "' is an absolute path"), Error);
  CHECK_FALSE(fs::exists(target));
  CHECK(fs::is_empty(d / "out3"));
}

TEST_CASE("extract_archive refuses links that lead outside the folder") {
  TempDir t("download", "symlink");
  const fs::path& d = t.path;
  // First an entry `link` -> d/outside, then a file link/pwned.txt that would land in d/outside.
  fs::create_directories(d / "outside");
  fs::create_directories(d / "one");
  fs::create_directory_symlink(d / "outside", d / "one/link");
  write_file(d / "two/link/pwned.txt", "pwned\n");
  const std::string archive = (d / "evil.tar").string();
  REQUIRE(run("tar -cf " + archive + " -C " + (d / "one").string() + " link") == 0);
  REQUIRE(run("tar -rf " + archive + " -C " + (d / "two").string() + " link/pwned.txt") == 0);
  CHECK_THROWS_WITH_AS(extract_archive(archive, (d / "out").string()),
                       contains(archive + ": entry 'link/pwned.txt' refused"), Error);
  CHECK_FALSE(fs::exists(d / "outside/pwned.txt"));

  // Hard links are checked as names are: neither '..' nor an absolute target.
  write_file(d / "secret.txt", "secret\n");
  python_tar(d / "hard_dotdot.tar.gz", "h", "../secret.txt");
  CHECK_THROWS_WITH_AS(extract_archive((d / "hard_dotdot.tar.gz").string(), (d / "out2").string()),
                       doctest::Contains("entry 'h' refused: Path contains '..'"), Error);
  python_tar(d / "hard_abs.tar.gz", "h", (d / "secret.txt").string());
  CHECK_THROWS_WITH_AS(extract_archive((d / "hard_abs.tar.gz").string(), (d / "out3").string()),
                       contains("entry 'h' is a hard link to the absolute path '" + (d / "secret.txt").string()),
                       Error);
  CHECK_FALSE(fs::exists(d / "out2/h"));
  CHECK_FALSE(fs::exists(d / "out3/h"));
}

TEST_CASE("extract_archive: links inside the archive, a folder reached through a link, zip") {
  TempDir t("download", "links");
  const fs::path& d = t.path;
  write_file(d / "src/top/data.bin", "payload\n");
  fs::create_hard_link(d / "src/top/data.bin", d / "src/top/hard.bin");
  fs::create_symlink("data.bin", d / "src/top/soft.bin");
  REQUIRE(run("tar -czf " + (d / "links.tar.gz").string() + " -C " + (d / "src").string() + " top") == 0);
  // The destination is reached through a symbolic link: that is the caller's choice, not the
  // archive's, so it is allowed. The hard link's target resolves under it, not the working folder.
  fs::create_directories(d / "real");
  fs::create_directory_symlink(d / "real", d / "via");
  std::vector<std::string> files = extract_archive((d / "links.tar.gz").string(), (d / "via/out").string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"top/data.bin", "top/hard.bin", "top/soft.bin"});
  CHECK(read_file(d / "real/out/top/hard.bin") == "payload\n");
  CHECK(fs::is_symlink(d / "real/out/top/soft.bin"));
  CHECK(read_file(d / "real/out/top/soft.bin") == "payload\n");

  // Any format libarchive reads: a zip made by Python.
  REQUIRE(
      run("python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('z/in_zip.txt','zipped'); "
          "z.close()\" " +
          (d / "a.zip").string()) == 0);
  CHECK(extract_archive((d / "a.zip").string(), (d / "zip").string()) == std::vector<std::string>{"z/in_zip.txt"});
  CHECK(read_file(d / "zip/z/in_zip.txt") == "zipped");
}

TEST_CASE("extract_archive names the file of a corrupt, truncated, empty or missing archive") {
  TempDir t("download", "corrupt");
  const fs::path& d = t.path;
  write_file(d / "src/top/noise.bin", noise(200000));
  const fs::path good = d / "good.tar.gz";
  REQUIRE(run("tar -czf " + good.string() + " -C " + (d / "src").string() + " top") == 0);
  const std::string bytes = read_file(good);
  REQUIRE(bytes.size() > 100000);  // the noise did not compress away

  const std::string truncated = (d / "truncated.tar.gz").string();
  write_file(truncated, bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH_AS(extract_archive(truncated, (d / "out1").string()), contains(truncated), Error);

  // A damaged tar header (its checksum no longer matches): the second one, so the format is still
  // recognized from the first. (Damaged file data inside a .tar.gz is not caught: libarchive does
  // not check the gzip CRC, which is why downloads are checked by MD5 before they are unpacked.)
  write_file(d / "src2/top/a.txt", "hello\n");  // one 512-byte data block: the next header is at 1024
  write_file(d / "src2/top/b.txt", "world\n");
  REQUIRE(run("tar -cf " + (d / "two.tar").string() + " -C " + (d / "src2").string() + " top/a.txt top/b.txt") == 0);
  std::string damaged = read_file(d / "two.tar");
  REQUIRE(damaged.substr(1024, 9) == "top/b.txt");
  damaged[1024] = 'X';
  const std::string corrupt = (d / "corrupt.tar").string();
  write_file(corrupt, damaged);
  CHECK_THROWS_WITH_AS(extract_archive(corrupt, (d / "out2").string()), contains(corrupt), Error);
  CHECK(read_file(d / "out2/top/a.txt") == "hello\n");  // written before the damage was reached

  const std::string junk = (d / "junk.tar.gz").string();
  write_file(junk, "not an archive at all, but long enough to be read as one block...");
  CHECK_THROWS_WITH_AS(extract_archive(junk, (d / "out3").string()), contains(junk), Error);

  const std::string empty = (d / "empty.tar.gz").string();
  write_file(empty, "");
  CHECK_THROWS_WITH_AS(extract_archive(empty, (d / "out4").string()), contains(empty + " is empty"), Error);

  const std::string missing = (d / "missing.tar.gz").string();
  CHECK_THROWS_WITH_AS(extract_archive(missing, (d / "out5").string()), contains("cannot read " + missing), Error);
}
