#pragma once
// safetensors: the checkpoint format qnn shares with PyTorch users. A file is
//   8 bytes: N, the header length (uint64, little-endian)
//   N bytes: a JSON object  name -> {"dtype": "F32"|"I64"|"I32"|"U8", "shape": [...],
//            "data_offsets": [begin, end]}  plus an optional "__metadata__": {string: string}
//   the raw little-endian data; offsets are relative to the first byte after the header.
// Nothing is executed on load (unlike pickled checkpoints), and every size is checked against the
// file before a byte of data is read, so a truncated or corrupted file is an error, never a crash.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace qnn {

struct SafetensorsFile {
  // In file order (sorted by data offset), which for files written by qnn or PyTorch is the order
  // the tensors were saved in.
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::map<std::string, std::string> metadata;

  // The tensor called `name`, or nullptr.
  const Tensor* find(const std::string& name) const;
  // The tensor called `name`; throws qnn::Error when there is none.
  const Tensor& at(const std::string& name) const;
};

// Reads every tensor of `path` into new contiguous CPU tensors. Throws qnn::Error naming the path
// for a missing or unreadable file or one that is not a regular file (a FIFO, a folder, a device),
// a truncated file, a header longer than 100 MB (the reference parser's limit), a header that is
// not valid JSON or does not describe the data (unknown dtype, offsets out of range or overlapping,
// shape x element size not equal to the span of the offsets, duplicate names). Parsing takes time
// linear in the header's length.
SafetensorsFile load_safetensors(const std::string& path);

// Writes `tensors` (any device, any strides; written contiguous, in the given order) and
// `metadata`. The write is atomic: the file is written to `path`.tmp.<pid>, flushed to disk and
// renamed over `path`, so a crash never leaves a half-written checkpoint under the real name.
// Names must be unique and not "__metadata__". `path` must be a regular file or a new path (a
// device, a FIFO or a folder is refused; core/io/file_checks.h), and the temporary files that
// killed writes of `path` left behind are removed.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The safetensors dtype string of `dtype` ("F32", "I64", "I32", "U8").
const char* safetensors_dtype_name(DType dtype);

}  // namespace qnn
