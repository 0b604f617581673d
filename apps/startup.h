#pragma once
// What an executable does first thing in main, before any BLAS or OpenMP work (the `qnn` command
// and the test runners).
namespace qnn::apps {

// Sets OPENBLAS_CORETYPE to core's recommended_blas_coretype() when there is one, and
// GOMP_SPINCOUNT=10000 when neither it nor OMP_WAIT_POLICY is set; when it set anything, it
// re-executes /proc/self/exe with the same arguments, since the libraries read these variables
// only when they are loaded. Returns (without restarting) when nothing needs to change, or when
// the re-execution fails.
void restart_with_fast_blas(char** argv);

}  // namespace qnn::apps
