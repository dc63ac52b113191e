// The CPU probe: compiled for the baseline target (no target attribute), so it runs on every CPU.
#include "RNNKernelsSIMD.h"
#include "GemmWide.h"

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

/// AVX-512F with the opmask and 512-bit register state saved (XCR0 bits 5–7, besides SSE and AVX's 1–2).
static int rnn_cpu_has_avx512f(void) {
    unsigned eax, ebx, ecx, edx;
    if (!rnn_simd_supported()) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe6u) != 0xe6u) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & (1u << 16)) ? 1 : 0;
}

/// −1 until probed, then rnn_cpu_has_avx512f() (the same value from every thread that probes).
static int rnn_wide_probed = -1;
/// 1 on a thread whose test turned the AVX-512 paths off (`rnn_simd_wide_for_testing`).
static _Thread_local int rnn_wide_off = 0;

int rnn_simd_wide(void) {
    int probed = __atomic_load_n(&rnn_wide_probed, __ATOMIC_RELAXED);
    if (probed < 0) {
        probed = rnn_cpu_has_avx512f();
        __atomic_store_n(&rnn_wide_probed, probed, __ATOMIC_RELAXED);
    }
    return probed && !rnn_wide_off;
}

int rnn_simd_wide_off(void) { return rnn_wide_off; }
void rnn_simd_set_wide_off(int off) { rnn_wide_off = off; }

/// Products run by the AVX-512 tiles on this thread and on the fused passes' threads it joined.
static _Thread_local long rnn_wide_products = 0;
void rnn_simd_count_wide_products(long count) { rnn_wide_products += count; }
long rnn_simd_wide_products_for_testing(void) { return rnn_wide_products; }

int rnn_simd_wide_for_testing(int enabled) {
    rnn_wide_off = !enabled;
    int probed = __atomic_load_n(&rnn_wide_probed, __ATOMIC_RELAXED);
    return probed < 0 ? rnn_cpu_has_avx512f() : probed;
}
#elif defined(__aarch64__) || defined(__arm64__)
int rnn_simd_supported(void) { return 1; }
#else
int rnn_simd_supported(void) { return 0; }
#endif

#if !defined(__x86_64__)
static _Thread_local int rnn_wide_off = 0;
int rnn_simd_wide_off(void) { return rnn_wide_off; }
void rnn_simd_set_wide_off(int off) { rnn_wide_off = off; }
int rnn_simd_wide(void) { return 0; }
int rnn_simd_wide_for_testing(int enabled) { (void)enabled; return 0; }
void rnn_simd_count_wide_products(long count) { (void)count; }
long rnn_simd_wide_products_for_testing(void) { return 0; }
#endif
