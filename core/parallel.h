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
// its SSE3 "Prescott" kernels, 4-6x slower than its AVX-512 ones on the same machine. OpenBLAS
// reads OPENBLAS_CORETYPE only when it is loaded, so the fix is to set it and start again:
// programs call this first thing in main. When OPENBLAS_CORETYPE is unset, the kernel OpenBLAS
// chose is such a fallback and the CPU has AVX-512F (-> SkylakeX) or AVX2+FMA (-> Haswell), it
// sets the variable. It also sets GOMP_SPINCOUNT=10000 when neither it nor OMP_WAIT_POLICY is set
// (libgomp's default spinning halves DeiT-Ti's speed here). When it set anything, it re-executes
// /proc/self/exe with the same arguments (the libraries read these variables when loaded).
void use_fast_blas_kernel(char** argv);

}  // namespace qnn
