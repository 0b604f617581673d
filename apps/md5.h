#pragma once
// MD5 (RFC 1321), only to check downloads against the checksums their publishers list (the CIFAR
// archives are published with MD5s). Not for anything security-related.
#include <cstdint>
#include <string>

namespace qnn::apps {

class Md5 {
 public:
  Md5();
  void update(const void* data, size_t size);
  std::string hex_digest();  // 32 lowercase hex digits; call once, at the end

 private:
  void block(const uint8_t* p);
  uint32_t a_, b_, c_, d_;
  uint64_t length_ = 0;  // bytes so far
  uint8_t buffer_[64];
  size_t buffered_ = 0;
};

std::string md5_of_file(const std::string& path);

}  // namespace qnn::apps
