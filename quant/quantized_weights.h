#pragma once
// A quantized model on disk: a safetensors file in which every quantized weight is stored as its
// integer codes (indices into its alphabet, bit-packed) plus the alphabet's levels, and every other
// tensor (biases, norms, float layers) as float32. One format serves PTQ and QAT:
//   "<name>.codes"   U8  [bytes]        codes, bits_per_code bits each, least significant bit first
//   "<name>.levels"  F32 [groups, L]    the sorted levels of each group's alphabet (a group is the
//                                       whole tensor, or one output channel = one row of dim 0)
//   metadata "qnn_quantized": JSON {name: {"shape": [...], "groups": g, "levels": L,
//                                          "bits_per_code": n, "alphabet": "...",
//                                          "delta": [step per group] (uniform alphabets)}}
// plus whatever the writer adds (method, bits, C, m, seed, ...). Decoding gives back exactly the
// float values the quantized model computed with, so a reloaded model evaluates identically.
#include <map>
#include <string>
#include <vector>

#include "nn/module.h"
#include "quant/quantizers/alphabet.h"

namespace qnn::quant {

// A weight whose values all lie on its alphabet(s): one alphabet per tensor, or one per row of
// dim 0 (per output channel).
struct QuantizedParam {
  std::string name;  // state_dict key, e.g. "layer1.0.conv1.weight"
  std::vector<Alphabet> alphabets;
};

// Writes `state` with the weights named in `quantized` encoded as codes. Throws qnn::Error naming
// the weight when one of its values is not a level of its alphabet (the model is not exactly
// quantized), or when a name is not in `state`. Atomic (temp file + rename).
void save_quantized(const std::string& path, const nn::StateDict& state, const std::vector<QuantizedParam>& quantized,
                    std::map<std::string, std::string> metadata = {});

struct QuantizedFile {
  nn::StateDict state;  // every tensor, quantized weights decoded to float32
  std::vector<QuantizedParam> quantized;
  std::map<std::string, std::string> metadata;
};
// Reads a file written by save_quantized (checked: code ranges, sizes, shapes).
QuantizedFile load_quantized(const std::string& path);
// Whether a safetensors file's metadata says it holds quantized weights.
bool is_quantized(const std::map<std::string, std::string>& metadata);

// Bytes the codes of `param` take when packed (what the file stores for it, levels excluded).
int64_t packed_code_bytes(int64_t numel, int bits_per_code);

}  // namespace qnn::quant
