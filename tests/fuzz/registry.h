#pragma once
// The fuzz targets compiled into the replay test, by name (fuzz_target.h's QNN_FUZZ_TARGET).
#include <map>
#include <string>

#include "tests/fuzz/fuzz_target.h"

namespace qnn::fuzz {

#ifndef QNN_FUZZ_LIBFUZZER
std::map<std::string, TargetFn>& targets();
#endif

}  // namespace qnn::fuzz
