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

}  // namespace qnn
