#include "quant/quantized_weights.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/creation.h"
#include "core/error.h"
#include "core/io/json_check.h"
#include "core/io/safetensors.h"

namespace qnn::quant {

namespace {

constexpr const char* kMetadataKey = "qnn_quantized";

const Tensor& find_tensor(const nn::StateDict& state, const std::string& name) {
  for (const auto& [key, tensor] : state)
    if (key == name)
      return tensor;
  throw Error("save_quantized: weight '" + name + "' is not in the model's state");
}

int max_bits(const std::vector<Alphabet>& alphabets) {
  int bits = 1;
  for (const auto& a : alphabets)
    bits = std::max(bits, a.bits_per_code());
  return bits;
}

int max_levels(const std::vector<Alphabet>& alphabets) {
  int n = 1;
  for (const auto& a : alphabets)
    n = std::max(n, a.size());
  return n;
}

// Appends `bits` low bits of `code` at bit position `pos` of `bytes`.
void put_bits(std::vector<uint8_t>& bytes, int64_t pos, uint32_t code, int bits) {
  for (int b = 0; b < bits; ++b, ++pos)
    if (code >> b & 1u)
      bytes[pos / 8] |= static_cast<uint8_t>(1u << (pos % 8));
}

uint32_t get_bits(const uint8_t* bytes, int64_t pos, int bits) {
  uint32_t code = 0;
  for (int b = 0; b < bits; ++b, ++pos)
    code |= static_cast<uint32_t>(bytes[pos / 8] >> (pos % 8) & 1u) << b;
  return code;
}

// `v` for a message: a number or a (shortened) string as JSON, anything else by its type.
std::string brief(const nlohmann::json& v) {
  if (!v.is_primitive())
    return std::string("a JSON ") + v.type_name();
  const std::string text = v.dump();
  return text.size() <= 40 ? text : text.substr(0, 37) + "...";
}

// What the index records about one quantized weight, checked before anything is sized by it.
struct IndexEntry {
  Shape shape;
  int64_t numel = 1, groups = 1, width = 1;
  int bits = 1;
};

// index[name][key] as an integer in [lo, hi] (0 <= lo).
int64_t index_integer(const std::string& path, const std::string& name, const nlohmann::json& entry, const char* key,
                      int64_t lo, int64_t hi) {
  const auto it = entry.find(key);
  // Unsigned first: a value above INT64_MAX must not wrap around into the range.
  const bool ok = it != entry.end() && it->is_number_unsigned() && it->get<uint64_t>() >= static_cast<uint64_t>(lo) &&
                  it->get<uint64_t>() <= static_cast<uint64_t>(hi);
  QNN_CHECK(ok, "load_quantized",
            path << ": quantized weight '" << name << "' has " << key << " "
                 << (it == entry.end() ? std::string("missing") : brief(*it)) << " (expected an integer in [" << lo
                 << ", " << hi << "])");
  return it->get<int64_t>();
}

IndexEntry parse_index_entry(const std::string& path, const std::string& name, const nlohmann::json& entry) {
  QNN_CHECK(entry.is_object(), "load_quantized",
            path << ": quantized weight '" << name << "' is described by " << brief(entry)
                 << " (expected an object with shape, groups, levels and bits_per_code)");
  IndexEntry e;
  const auto shape = entry.find("shape");
  QNN_CHECK(shape != entry.end() && shape->is_array(), "load_quantized",
            path << ": quantized weight '" << name << "' has shape "
                 << (shape == entry.end() ? std::string("missing") : brief(*shape)) << " (expected an array)");
  // The strides multiply the sizes with 0 read as 1, and the codes take numel * bits bits: both
  // must fit in an int64.
  int64_t span = 1;
  for (const auto& s : *shape) {
    QNN_CHECK(s.is_number_unsigned() && s.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), "load_quantized",
              path << ": quantized weight '" << name << "' has shape element " << brief(s)
                   << " (expected non-negative integers)");
    const int64_t d = s.get<int64_t>();
    QNN_CHECK(!__builtin_mul_overflow(span, std::max<int64_t>(d, 1), &span) && span <= INT64_MAX / 16, "load_quantized",
              path << ": quantized weight '" << name << "' has a shape whose size overflows (" << shape_str(e.shape)
                   << " times " << d << ")");
    e.shape.push_back(d);
    e.numel *= d;  // <= span
  }
  e.bits = static_cast<int>(index_integer(path, name, entry, "bits_per_code", 1, 16));
  e.width = index_integer(path, name, entry, "levels", 1, int64_t{1} << e.bits);
  e.groups = index_integer(path, name, entry, "groups", 1, INT32_MAX);
  QNN_CHECK(e.numel % e.groups == 0, "load_quantized",
            path << ": quantized weight '" << name << "' has " << e.numel << " elements in " << e.groups
                 << " groups (expected a whole number per group)");
  return e;
}

}  // namespace

int64_t packed_code_bytes(int64_t numel, int bits_per_code) { return (numel * bits_per_code + 7) / 8; }

bool is_quantized(const std::map<std::string, std::string>& metadata) { return metadata.count(kMetadataKey) > 0; }

void save_quantized(const std::string& path, const nn::StateDict& state, const std::vector<QuantizedParam>& quantized,
                    std::map<std::string, std::string> metadata) {
  nlohmann::json index = nlohmann::json::object();
  std::map<std::string, std::pair<Tensor, Tensor>> encoded;  // name -> (codes, levels)
  for (const auto& param : quantized) {
    const Tensor weight = find_tensor(state, param.name).contiguous().to(DType::Float32);
    const int64_t groups = static_cast<int64_t>(param.alphabets.size());
    QNN_CHECK(groups == 1 || (weight.dim() >= 1 && groups == weight.size(0)), "save_quantized",
              "weight '" << param.name << "' has " << groups << " alphabets (expected 1 or one per row, "
                         << (weight.dim() >= 1 ? weight.size(0) : 1) << ")");
    const int bits = max_bits(param.alphabets), width = max_levels(param.alphabets);
    const int64_t numel = weight.numel(), per_group = numel / groups;
    std::vector<uint8_t> bytes(packed_code_bytes(numel, bits), 0);
    const float* w = weight.data<float>();
    for (int64_t i = 0; i < numel; ++i) {
      const Alphabet& alphabet = param.alphabets[i / per_group];
      const int code = alphabet.index_of(w[i]);
      QNN_CHECK(code >= 0, "save_quantized",
                "weight '" << param.name << "' element " << i << " = " << w[i] << " is not a level of its alphabet "
                           << alphabet.describe() << " (expected an exactly quantized model)");
      put_bits(bytes, i * bits, static_cast<uint32_t>(code), bits);
    }
    // Levels table [groups, width]; a shorter alphabet is padded with its largest level (never
    // addressed: its codes are < its own size).
    std::vector<float> table;
    for (const auto& a : param.alphabets)
      for (int j = 0; j < width; ++j)
        table.push_back(a.levels()[std::min(j, a.size() - 1)]);
    Tensor codes = Tensor::empty({static_cast<int64_t>(bytes.size())}, DType::UInt8);
    std::copy(bytes.begin(), bytes.end(), codes.data<uint8_t>());
    encoded[param.name] = {codes, from_vector(table, {groups, static_cast<int64_t>(width)})};
    index[param.name] = {{"shape", weight.shape()},
                         {"groups", groups},
                         {"levels", width},
                         {"bits_per_code", bits},
                         {"alphabet", param.alphabets.front().describe()}};
    // The step size delta of each group, for uniform alphabets (the levels say it too).
    if (param.alphabets.front().kind() != Alphabet::Kind::arbitrary) {
      std::vector<float> deltas;
      for (const auto& a : param.alphabets)
        deltas.push_back(a.delta());
      index[param.name]["delta"] = deltas;
    }
  }
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& [name, tensor] : state) {
    auto it = encoded.find(name);
    if (it == encoded.end()) {
      tensors.emplace_back(name, tensor);
    } else {
      tensors.emplace_back(name + ".codes", it->second.first);
      tensors.emplace_back(name + ".levels", it->second.second);
    }
  }
  metadata[kMetadataKey] = index.dump();
  save_safetensors(path, tensors, metadata);
}

QuantizedFile load_quantized(const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  auto meta = file.metadata.find(kMetadataKey);
  QNN_CHECK(meta != file.metadata.end(), "load_quantized",
            path << " has no '" << kMetadataKey << "' metadata (expected a file written by qnn ptq or qnn qat)");
  const nlohmann::json index =
      parse_checked_json(meta->second, "load_quantized: " + path + ": the '" + kMetadataKey + "' metadata",
                         {8, /*unique_top_level_keys=*/true, "weight name -> {shape, groups, levels, bits_per_code}"});
  QNN_CHECK(index.is_object(), "load_quantized",
            path << ": the '" << kMetadataKey << "' metadata is a JSON " << index.type_name()
                 << " (expected an object: weight name -> shape, groups, levels, bits_per_code)");
  QuantizedFile out;
  out.metadata = file.metadata;
  std::map<std::string, bool> consumed;
  for (const auto& [name, tensor] : file.tensors) {
    const bool is_codes = name.size() > 6 && name.compare(name.size() - 6, 6, ".codes") == 0;
    const bool is_levels = name.size() > 7 && name.compare(name.size() - 7, 7, ".levels") == 0;
    const std::string base = is_codes    ? name.substr(0, name.size() - 6)
                             : is_levels ? name.substr(0, name.size() - 7)
                                         : name;
    if ((is_codes || is_levels) && index.contains(base)) {
      if (consumed[base])
        continue;
      consumed[base] = true;
      const IndexEntry entry = parse_index_entry(path, base, index[base]);
      const Tensor* codes = file.find(base + ".codes");
      const Tensor* levels = file.find(base + ".levels");
      QNN_CHECK(codes && levels, "load_quantized",
                path << ": quantized weight '" << base << "' has no " << (codes ? ".levels" : ".codes")
                     << " tensor (expected both " << base << ".codes and " << base << ".levels)");
      const int64_t width = entry.width, groups = entry.groups, numel = entry.numel;
      const int bits = entry.bits;
      QNN_CHECK(codes->dtype() == DType::UInt8 && codes->numel() == packed_code_bytes(numel, bits) &&
                    levels->dtype() == DType::Float32 && levels->numel() == groups * width,
                "load_quantized",
                path << ": the codes or levels of '" << base << "' do not match its recorded shape, groups and bits"
                     << " (expected U8 codes of " << packed_code_bytes(numel, bits) << " bytes and F32 levels of "
                     << groups << " x " << width << ")");
      QuantizedParam param{base, {}};
      const float* table = levels->data<float>();
      for (int64_t g = 0; g < groups; ++g)
        param.alphabets.push_back(
            Alphabet::from_levels(std::vector<float>(table + g * width, table + (g + 1) * width)));
      Tensor weight = Tensor::empty(entry.shape);
      float* w = weight.data<float>();
      const uint8_t* packed = codes->data<uint8_t>();
      const int64_t per_group = numel / groups;
      for (int64_t i = 0; i < numel; ++i) {
        const uint32_t code = get_bits(packed, i * bits, bits);
        QNN_CHECK(code < static_cast<uint32_t>(width), "load_quantized",
                  path << ": code " << code << " of '" << base << "' is out of range (expected < " << width << ")");
        w[i] = table[(i / per_group) * width + code];
      }
      out.state.emplace_back(base, weight);
      out.quantized.push_back(std::move(param));
    } else {
      out.state.emplace_back(name, tensor);
    }
  }
  for (const auto& item : index.items())
    QNN_CHECK(consumed.count(item.key()), "load_quantized",
              path << ": '" << item.key() << "' is listed as quantized but its codes are missing");
  // A plain tensor named like a quantized weight would make two entries of one name.
  std::set<std::string> names;
  for (const auto& [name, tensor] : out.state)
    QNN_CHECK(names.insert(name).second, "load_quantized",
              path << ": '" << name << "' is both a quantized weight (codes and levels) and a tensor of its own"
                   << " (expected one of the two)");
  return out;
}

}  // namespace qnn::quant
