// The CPU probe: compiled for the baseline target (no target attribute), so it runs on every CPU.
#include "RNNKernelsSIMD.h"

#if defined(__x86_64__)
#include <cpuid.h>

int rnn_simd_supported(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
    if ((ecx & (fma | osxsave | avx)) != (fma | osxsave | avx)) return 0;
    // The operating system must save the SSE and AVX register state (XCR0 bits 1 and 2).
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6u) != 6u) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned avx2 = 1u << 5;
    return (ebx & avx2) ? 1 : 0;
}
#elif defined(__aarch64__) || defined(__arm64__)
int rnn_simd_supported(void) { return 1; }
#else
int rnn_simd_supported(void) { return 0; }
#endif
