// libarchive reads the archive (any format and filter it knows) and writes entries with its
// disk writer, whose SECURE flags are the checks a hand-written tar reader easily gets wrong.
#include "datasets/archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <memory>

#include "core/error.h"

namespace qnn::data {

namespace fs = std::filesystem;

namespace {

struct ReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};

using ArchivePtr = std::unique_ptr<struct archive, ReadFree>;
using DiskPtr = std::unique_ptr<struct archive, WriteFree>;

std::string message(struct archive* a) {
  const char* text = archive_error_string(a);
  return text ? text : "no message";
}

ArchivePtr open_reader(const std::string& archive) {
  ArchivePtr in(archive_read_new());
  QNN_CHECK(in != nullptr, "extract_archive", "libarchive failed to start a reader for " << archive);
  archive_read_support_filter_all(in.get());
  archive_read_support_format_all(in.get());
  QNN_CHECK(archive_read_open_filename(in.get(), archive.c_str(), 1 << 16) == ARCHIVE_OK, "extract_archive",
            "cannot read " << archive << ": " << message(in.get()));
  return in;
}

// No ARCHIVE_EXTRACT_OWNER/PERM: files belong to whoever unpacks them and get the entry's mode
// under the umask, never setuid or setgid bits. No SECURE_NOABSOLUTEPATHS: every path handed to
// the writer is dir/name with dir absolute, so it would refuse them all; place_under checks the
// entry's own name instead.
DiskPtr open_writer() {
  DiskPtr out(archive_write_disk_new());
  QNN_CHECK(out != nullptr, "extract_archive", "libarchive failed to start a disk writer");
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  return out;
}

// Rewrites the entry's path (and a hard link's target) to lie under `root`. An absolute name would
// land under root once prefixed, hiding what the archive asked for, so it is refused first.
void place_under(struct archive_entry* entry, const std::string& name, const std::string& root,
                 const std::string& archive) {
  QNN_CHECK(name[0] != '/', "extract_archive",
            archive << ": entry '" << name << "' is an absolute path (expected a relative one; refused)");
  archive_entry_set_pathname(entry, (root + "/" + name).c_str());
  if (const char* target = archive_entry_hardlink(entry)) {
    QNN_CHECK(target[0] != '/', "extract_archive",
              archive << ": entry '" << name << "' is a hard link to the absolute path '" << target
                      << "' (expected a relative one; refused)");
    archive_entry_set_hardlink(entry, (root + "/" + target).c_str());
  }
}

void copy_data(struct archive* in, struct archive* out, const std::string& archive, const std::string& name) {
  const void* block;
  size_t size;
  la_int64_t offset;
  int r;
  while ((r = archive_read_data_block(in, &block, &size, &offset)) == ARCHIVE_OK)
    QNN_CHECK(archive_write_data_block(out, block, size, offset) == ARCHIVE_OK, "extract_archive",
              "cannot write entry '" << name << "' of " << archive << ": " << message(out));
  QNN_CHECK(r == ARCHIVE_EOF, "extract_archive",
            archive << " is corrupt or truncated inside entry '" << name << "': " << message(in));
}

// Files, folders and links; a dataset has no use for devices or FIFOs (which libarchive would
// create when run as root).
bool wanted(struct archive_entry* entry) {
  const auto type = archive_entry_filetype(entry);
  return type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK || archive_entry_hardlink(entry) != nullptr;
}

}  // namespace

std::vector<std::string> extract_archive(const std::string& archive, const std::string& dir) {
  ArchivePtr in = open_reader(archive);
  DiskPtr out = open_writer();
  fs::create_directories(dir);
  // SECURE_SYMLINKS refuses a symbolic link anywhere in the path, so resolve those in dir itself.
  const std::string root = fs::canonical(dir).string();
  std::vector<std::string> written;
  struct archive_entry* entry;
  int r;
  // ARCHIVE_WARN is a recoverable oddity (e.g. an unknown pax attribute): the entry is still good.
  while ((r = archive_read_next_header(in.get(), &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    const std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    QNN_CHECK(!name.empty(), "extract_archive", archive << " has an entry without a name (expected a path)");
    if (!wanted(entry))
      continue;
    place_under(entry, name, root, archive);
    QNN_CHECK(archive_write_header(out.get(), entry) >= ARCHIVE_WARN, "extract_archive",
              archive << ": entry '" << name << "' refused: " << message(out.get()));
    copy_data(in.get(), out.get(), archive, name);
    QNN_CHECK(archive_write_finish_entry(out.get()) >= ARCHIVE_WARN, "extract_archive",
              "cannot finish entry '" << name << "' of " << archive << ": " << message(out.get()));
    if (archive_entry_filetype(entry) != AE_IFDIR)
      written.push_back(fs::path(name).lexically_normal().generic_string());
  }
  QNN_CHECK(r == ARCHIVE_EOF, "extract_archive", archive << " is corrupt or truncated: " << message(in.get()));
  // The "empty" format accepts a zero-byte file, which is no dataset archive.
  QNN_CHECK(archive_format(in.get()) != ARCHIVE_FORMAT_EMPTY, "extract_archive",
            archive << " is empty (expected an archive)");
  return written;
}

}  // namespace qnn::data
