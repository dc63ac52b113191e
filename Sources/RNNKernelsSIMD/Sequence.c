// The fused sequence forward pass of the LSTM and GRU and its backward pass, Float and Double
// (SequenceTemplate.h and SequenceBackwardTemplate.h once per type), and the spinning barrier the forward
// pass's threads meet at once per step when they split the hidden units.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "RNNKernelsSIMD.h"
#include "SIMDCommon.h"

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

/// Waits until all `parts` threads arrived; the last one to arrive releases the others.
static void rnn_barrier_wait(rnn_barrier *b, int *phase) {
    (void)phase;
    int generation = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->parts - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        return;
    }
    // Spin a while (a step's imbalance is short), then yield, so that a machine with fewer free cores
    // than threads still makes progress.
    for (int spins = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == generation; spins++) {
        if (spins < 4000) rnn_cpu_relax(); else sched_yield();
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
} rnn_part_worker;

static void *rnn_part_thread(void *arg) {
    const rnn_part_worker *w = arg;
    w->body(w->args, w->part, w->shared);
    return NULL;
}

/// Runs parts 1 ..< parts (at most `RNN_SEQUENCE_MAX_PARTS`) on threads of their own and part 0 on the
/// caller's, and returns when every part has.
static void rnn_run_parts(ptrdiff_t parts, rnn_part_body body, const void *args, void *shared) {
    pthread_t threads[RNN_SEQUENCE_MAX_PARTS];
    rnn_part_worker workers[RNN_SEQUENCE_MAX_PARTS];
    for (ptrdiff_t p = 1; p < parts; p++) {
        workers[p] = (rnn_part_worker){body, args, p, shared};
        if (pthread_create(&threads[p], NULL, rnn_part_thread, &workers[p]) != 0) abort();
    }
    body(args, 0, shared);
    for (ptrdiff_t p = 1; p < parts; p++) pthread_join(threads[p], NULL);
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
