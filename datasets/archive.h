#pragma once
// Unpacks a dataset archive (.tar.gz as CIFAR's, or any format and compression libarchive reads)
// with libarchive's secure extraction: no entry may use '..', be absolute, or write through a
// symbolic link, so an archive cannot write outside the folder it is unpacked into.
#include <string>
#include <vector>

namespace qnn::data {

// Extracts `archive` into `dir` (created if missing) and returns the paths of the files and links
// written, relative to dir, in archive order (folders are not listed). Throws qnn::Error naming
// the archive and the entry for a refused entry, and naming the archive with libarchive's message
// for a corrupt, truncated or unknown archive. Entries before the failing one stay written.
std::vector<std::string> extract_archive(const std::string& archive, const std::string& dir);

}  // namespace qnn::data
