#pragma once
// Unpacks a .tar.gz archive (POSIX ustar and GNU tar, regular files and folders only), as the
// CIFAR archives are. zlib does the gunzip; the tar format is simple enough to read here.
#include <string>
#include <vector>

namespace qnn::apps {

// Extracts `archive` into `dir` and returns the paths written (relative to dir). Entries whose
// names are absolute or contain ".." are refused, so an archive cannot write outside `dir`.
std::vector<std::string> extract_tar_gz(const std::string& archive, const std::string& dir);

}  // namespace qnn::apps
