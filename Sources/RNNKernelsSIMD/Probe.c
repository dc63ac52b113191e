// The dispatch probe: a count of the products run by the packed kernel on prepacked panels, which tests read
// to know that a step took the packed path (and did not merely qualify for it).
#include "RNNKernelsSIMD.h"
#include <stdatomic.h>

static _Atomic long prepacked_products;

void rnn_probe_count_prepacked(void) { atomic_fetch_add_explicit(&prepacked_products, 1, memory_order_relaxed); }

long rnn_probe_prepacked_products(void) { return atomic_load_explicit(&prepacked_products, memory_order_relaxed); }
