#pragma once
// HTTP(S) downloads with libcurl: to a temporary file beside the target, renamed when complete, so
// an interrupted download never leaves a file that looks whole. It prints nothing: progress goes to
// a callback, so the caller (apps/ owns the terminal) decides how to show it.
#include <cstdint>
#include <functional>
#include <string>

namespace qnn::data {

// Called with (bytes so far, total bytes or 0 when the server does not say).
using DownloadProgress = std::function<void(int64_t, int64_t)>;

// Downloads `url` to `path`. Throws qnn::Error naming the URL for a network error or an HTTP
// status other than 200.
void download(const std::string& url, const std::string& path, const DownloadProgress& progress = {});

}  // namespace qnn::data
