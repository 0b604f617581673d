#include "datasets/download.h"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>

#include "core/error.h"

namespace qnn::data {

namespace {

struct Transfer {
  std::FILE* out = nullptr;
  const DownloadProgress* progress = nullptr;
};

size_t write_chunk(char* data, size_t size, size_t count, void* user) {
  return std::fwrite(data, size, count, static_cast<Transfer*>(user)->out) * size;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  const Transfer* t = static_cast<Transfer*>(user);
  if (t->progress && *t->progress)
    (*t->progress)(static_cast<int64_t>(now), static_cast<int64_t>(total));
  return 0;
}

}  // namespace

void download(const std::string& url, const std::string& path, const DownloadProgress& progress) {
  const std::string tmp = path + ".part";
  Transfer t;
  t.progress = &progress;
  t.out = std::fopen(tmp.c_str(), "wb");
  QNN_CHECK(t.out != nullptr, "download", "cannot write " << tmp);
  CURL* curl = curl_easy_init();
  QNN_CHECK(curl != nullptr, "download", "libcurl failed to start");
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_chunk);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (under 1 KB/s for a minute) is an error, not a hang.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  const bool written = std::fclose(t.out) == 0;
  if (code != CURLE_OK || status != 200 || !written) {
    std::filesystem::remove(tmp);
    QNN_CHECK(code == CURLE_OK, "download", url << ": " << (error[0] ? error : curl_easy_strerror(code)));
    QNN_CHECK(status == 200, "download", url << ": HTTP status " << status << " (expected 200)");
    QNN_CHECK(written, "download", "cannot write " << tmp << " (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace qnn::data
