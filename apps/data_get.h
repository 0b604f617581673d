#pragma once
// `qnn data get`: the download-check-unpack steps, callable in-process (tests use a local server).
#include <ostream>
#include <string>

namespace qnn::apps {

struct DataGetOptions {
  std::string name;  // cifar10 or cifar100
  std::string dir = "data";
  std::string url, md5;  // empty: the official archive and its published MD5
  bool keep_archive = false;
};

// Returns the unpacked folder (e.g. data/cifar-10-batches-bin).
std::string get_dataset(const DataGetOptions& options, std::ostream& log);

}  // namespace qnn::apps
