#pragma once
// MD5 of a file, only to check a download against the checksum its publisher lists (the CIFAR
// archives are published with MD5s). MD5 is broken for security: never use this to trust data
// from an attacker, only to catch a truncated or corrupted transfer.
#include <string>

namespace qnn::data {

// 32 lowercase hex digits. Throws qnn::Error naming `path` when it cannot be opened or read.
std::string md5_of_file(const std::string& path);

}  // namespace qnn::data
