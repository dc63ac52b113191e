// The fused sequence forward pass of the LSTM and GRU and its backward pass, Float and Double
// (SequenceTemplate.h and SequenceBackwardTemplate.h once per type), and the spinning barrier the forward
// pass's threads meet at once per step when they split the hidden units.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "RNNKernelsSIMD.h"
#include "SIMDCommon.h"
#include "GemmWide.h"

/// A barrier for a few threads that spin (with a pause, then yielding the core) instead of sleeping: a step
/// is tens of microseconds, shorter than a sleep and wake-up.
typedef struct {
    _Atomic int arrived;
    _Atomic int generation;
    int parts;
} rnn_barrier;

static void rnn_barrier_init(rnn_barrier *b, int parts) {
    atomic_init(&b->arrived, 0);
    atomic_init(&b->generation, 0);
    b->parts = parts;
}

static inline void rnn_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm64__)
    __asm__ volatile("yield");
#endif
}

/// One turn of a wait loop, its `spins`-th: spin a while (the waits here are short), then yield, so that a
/// machine with fewer free cores than threads still makes progress.
static inline void rnn_wait_turn(int spins) {
    if (spins < 4000) rnn_cpu_relax(); else sched_yield();
}

/// Waits until all `parts` threads arrived; the last one to arrive releases the others.
static void rnn_barrier_wait(rnn_barrier *b, int *phase) {
    (void)phase;
    int generation = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->parts - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        return;
    }
    for (int spins = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == generation; spins++) {
        rnn_wait_turn(spins);
    }
}

/// One part of a pass: part `part` of the work `args` describes, with `shared` what the parts share (the
/// forward pass's barrier, or NULL).
typedef void (*rnn_part_body)(const void *args, ptrdiff_t part, void *shared);

typedef struct {
    rnn_part_body body;
    const void *args;
    ptrdiff_t part;
    void *shared;
    /// 0 until every thread exists, then 1 to run or −1 to return without running.
    _Atomic int *gate;
    /// The calling thread's `rnn_simd_wide_for_testing` setting, which the part's thread takes on.
    int wideOff;
    /// The products the part's thread ran by the AVX-512 tiles, which the calling thread adds to its count.
    long wideProducts;
} rnn_part_worker;

static void *rnn_part_thread(void *arg) {
    rnn_part_worker *w = arg;
    int go;
    for (int spins = 0; (go = atomic_load_explicit(w->gate, memory_order_acquire)) == 0; spins++) {
        rnn_wait_turn(spins);
    }
    rnn_simd_set_wide_off(w->wideOff);
    if (go > 0) w->body(w->args, w->part, w->shared);
    w->wideProducts = rnn_simd_wide_products_for_testing();
    return NULL;
}

/// Threads this thread may still create before `pthread_create` is made to fail (−1: no limit), and the
/// creations made to fail since the last `rnn_simd_fail_thread_creation_for_testing`.
static _Thread_local int rnn_thread_creations_left = -1, rnn_thread_creations_refused = 0;

int rnn_simd_fail_thread_creation_for_testing(int after) {
    int refused = rnn_thread_creations_refused;
    rnn_thread_creations_left = after;
    rnn_thread_creations_refused = 0;
    return refused;
}

static int rnn_create_thread(pthread_t *thread, rnn_part_worker *worker) {
    if (rnn_thread_creations_left == 0) { rnn_thread_creations_refused++; return -1; }
    if (rnn_thread_creations_left > 0) rnn_thread_creations_left--;
    return pthread_create(thread, NULL, rnn_part_thread, worker);
}

/// Runs body(args, p, shared) for every part p < parts: part 0 on the calling thread, each other part on a
/// thread of its own, which starts its work once every thread exists (with the calling thread's
/// `rnn_simd_wide_for_testing` setting). When a thread cannot be created (the
/// process is out of threads or memory): parts that never wait for each other (`independent`) run on the
/// calling thread instead, after part 0, the same work in another order; parts that meet at a barrier could
/// not, so none runs and the call returns 0, for the caller to take another path. Returns 1 when every part
/// ran.
static int rnn_run_parts(ptrdiff_t parts, rnn_part_body body, const void *args, void *shared, int independent) {
    pthread_t threads[RNN_SEQUENCE_MAX_PARTS];
    rnn_part_worker workers[RNN_SEQUENCE_MAX_PARTS];
    int started[RNN_SEQUENCE_MAX_PARTS] = {0};
    _Atomic int gate;
    atomic_init(&gate, 0);
    int all = 1;
    for (ptrdiff_t p = 1; p < parts; p++) {
        workers[p] = (rnn_part_worker){body, args, p, shared, &gate, rnn_simd_wide_off(), 0};
        started[p] = rnn_create_thread(&threads[p], &workers[p]) == 0;
        all = all && started[p];
    }
    int run = all || independent;
    atomic_store_explicit(&gate, run ? 1 : -1, memory_order_release);
    if (run) {
        body(args, 0, shared);
        for (ptrdiff_t p = 1; p < parts; p++) {
            if (!started[p]) body(args, p, shared);
        }
    }
    for (ptrdiff_t p = 1; p < parts; p++) {
        if (started[p]) {
            pthread_join(threads[p], NULL);
            rnn_simd_count_wide_products(workers[p].wideProducts);
        }
    }
    return run;
}

RNN_SIMD_BEGIN

#define T float
#define NAME(f) f##_f32
#include "SequenceTemplate.h"
#include "SequenceBackwardTemplate.h"
#undef T
#undef NAME

#define T double
#define NAME(f) f##_f64
#include "SequenceTemplate.h"
#include "SequenceBackwardTemplate.h"
#undef T
#undef NAME

RNN_SIMD_END
