// The doctest entry point shared by every test executable. Like `qnn`, it first makes sure
// OpenBLAS runs its fast kernels on CPUs that OpenBLAS 0.3.21 does not recognize.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "apps/startup.h"

int main(int argc, char** argv) {
  qnn::apps::restart_with_fast_blas(argv);
  return doctest::Context(argc, argv).run();
}
