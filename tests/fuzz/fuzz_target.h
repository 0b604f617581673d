#pragma once
// One fuzz target = one function of the input bytes, declared with QNN_FUZZ_TARGET(name). The same
// source builds two ways:
// - with -DQNN_FUZZ=ON (clang, QNN_FUZZ_LIBFUZZER defined): the function is libFuzzer's
//   LLVMFuzzerTestOneInput and the file is the fuzz_<name> executable;
// - in the ordinary test build: the function is registered by name, and test_fuzz (test_replay.cpp)
//   replays every committed input of corpus/<name>/ and regressions/<name>/ through it.
// A target refuses bad input the way qnn does, with a qnn::Error; any other exception escaping, a
// failed FUZZ_ASSERT, a sanitizer report, a leak, a timeout or an out-of-memory is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.h"

namespace qnn::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

#ifndef QNN_FUZZ_LIBFUZZER
// Registers `fn` under `name` for the replay test; returns true (for a static initializer).
bool register_target(const char* name, TargetFn fn);
#endif

// A folder of this process for the files a target writes (the readers take paths), under
// $QNN_FUZZ_SCRATCH, else /dev/shm (no disk writes, cheap fsync), else the system temp folder.
// Created on first use, removed at exit.
const std::string& scratch_dir();
// scratch_dir()/name.
std::string scratch_path(const std::string& name);
// Writes the bytes to scratch_path(name) (replacing it) and returns that path.
std::string write_scratch(const std::string& name, const uint8_t* data, size_t size);

[[noreturn]] void fail(const char* target, const std::string& what);

// Whether $QNN_FUZZ_VERBOSE is set: then each refusal's message is printed (to see why the
// seeds or a regression input are refused).
bool verbose();

// Runs fn: a qnn::Error is the expected refusal of bad input, any other exception is a finding
// (a raw library message would reach the user without the file or the key).
template <class Fn>
void expect_qnn_errors_only(const char* target, Fn&& fn) {
  try {
    fn();
    if (verbose())
      std::fprintf(stderr, "%s: accepted\n", target);
  } catch (const qnn::Error& e) {
    if (verbose())
      std::fprintf(stderr, "%s: refused: %s\n", target, e.what());
  } catch (const std::exception& e) {
    fail(target, std::string("an exception other than qnn::Error escaped: ") + e.what());
  }
}

}  // namespace qnn::fuzz

// A property every input must keep; a failure aborts (libFuzzer saves the input).
#define FUZZ_ASSERT(target, cond)                          \
  do {                                                     \
    if (!(cond))                                           \
      ::qnn::fuzz::fail(target, "FUZZ_ASSERT(" #cond ")"); \
  } while (0)

#ifdef QNN_FUZZ_LIBFUZZER
#define QNN_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define QNN_FUZZ_TARGET(name)                                          \
  static int qnn_fuzz_target_##name(const uint8_t* data, size_t size); \
  [[maybe_unused]] static const bool qnn_fuzz_registered_##name =      \
      ::qnn::fuzz::register_target(#name, qnn_fuzz_target_##name);     \
  static int qnn_fuzz_target_##name(const uint8_t* data, size_t size)
#endif
