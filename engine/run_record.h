#pragma once
// What a run folder records about how it was made (run.json), so that a number in it can be
// traced to the code, the machine and the command: qnn's version and git commit (from the build),
// the BLAS and its kernel, the threads, the command line, and the input normalization with where
// it came from. Commands add the resolved config, the seeds and, for quantized models, the bits
// and levels of every quantized tensor.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "datasets/presets.h"
#include "quant/quantized_weights.h"

namespace qnn::engine {

// The command line of this process, as the executable recorded it at start-up (empty in a
// program that did not).
void set_command_line(int argc, char** argv);
const std::string& command_line();

// {"version", "commit", "build_type"} of this build.
nlohmann::ordered_json build_record();
// The build, the machine (BLAS, its kernel, threads) and the command line, with the time.
nlohmann::ordered_json environment_record();
// {"name", "mean", "std", "source"}.
nlohmann::ordered_json normalization_record(const data::Normalization& norm, const std::string& source);
// Per quantized tensor: its name, `bits` (as the command names them: "2-bit", "ternary", "4"), the
// number of levels and the levels (per channel: one list per channel).
nlohmann::ordered_json quantized_record(const std::vector<quant::QuantizedParam>& params, const std::string& bits);

}  // namespace qnn::engine
