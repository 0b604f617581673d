#pragma once
// Threads. qnn links the OpenMP build of OpenBLAS, so BLAS and qnn's own loops share ONE OpenMP
// pool (two pools on two cores cost up to 2x, shared/bench/BASELINE.md). QNN_NUM_THREADS
// (default: all cores) sets it at start-up; set_num_threads changes it later.
#include <string>

namespace qnn {

void set_num_threads(int n);
int num_threads();
// Called once, lazily, by everything that cares (reads QNN_NUM_THREADS).
void init_threads();

std::string blas_name();    // e.g. "OpenBLAS 0.3.21 (OpenMP)"
std::string blas_kernel();  // openblas_get_corename(), e.g. "Haswell"

// OpenBLAS 0.3.21 (Debian 12) does not know newer CPUs (e.g. Sapphire Rapids) and falls back to
// its SSE3 "Prescott" kernels, 4-6x slower than its AVX-512 ones on the same machine. This is the
// query: when OPENBLAS_CORETYPE is unset, the kernel OpenBLAS chose is such a fallback and the CPU
// has AVX-512F (-> "SkylakeX") or AVX2+FMA (-> "Haswell"), the kernel to ask for; otherwise "".
// OpenBLAS reads OPENBLAS_CORETYPE only when it is loaded, so acting on it (set the variable,
// start again) is the executable's business at start-up (apps/startup.h).
std::string recommended_blas_coretype();

}  // namespace qnn
