// The dispatch probe: counts of the products run by the packed kernel on an operand's prepacked panels, which
// tests read to know that a step took the packed path (and did not merely qualify for it). Each operand has its
// own counter, so products on other operands, on other threads, do not count.
#include "RNNKernelsSIMD.h"
#include <stdatomic.h>

void rnn_probe_count(long *counter) { atomic_fetch_add_explicit((_Atomic long *)counter, 1, memory_order_relaxed); }

long rnn_probe_read(const long *counter) { return atomic_load_explicit((_Atomic long *)counter, memory_order_relaxed); }
