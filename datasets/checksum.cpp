// OpenSSL's EVP interface computes the digest: a maintained implementation (libssl-dev) instead of
// one of our own.
#include "datasets/checksum.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "core/error.h"

namespace qnn::data {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

struct DigestFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string to_hex(const unsigned char* bytes, unsigned size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0xf];
  }
  return hex;
}

}  // namespace

std::string md5_of_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> in(std::fopen(path.c_str(), "rb"));
  QNN_CHECK(in != nullptr, "md5", "cannot open " << path << " (expected a readable file)");
  std::unique_ptr<EVP_MD_CTX, DigestFree> ctx(EVP_MD_CTX_new());
  // Fails where the OpenSSL configuration disables MD5 (FIPS mode).
  QNN_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) == 1, "md5",
            "OpenSSL refused to start an MD5 digest for " << path);
  std::vector<unsigned char> chunk(1 << 16);
  size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), in.get())) > 0)
    QNN_CHECK(EVP_DigestUpdate(ctx.get(), chunk.data(), n) == 1, "md5", "OpenSSL failed to digest " << path);
  // fread stops at the end of the file or at an error (a folder opens, but cannot be read).
  QNN_CHECK(!std::ferror(in.get()), "md5", "cannot read " << path << " (expected a regular file)");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  QNN_CHECK(EVP_DigestFinal_ex(ctx.get(), digest, &size) == 1 && size == 16, "md5",
            "OpenSSL gave a " << size << "-byte digest for " << path << " (expected 16)");
  return to_hex(digest, size);
}

}  // namespace qnn::data
