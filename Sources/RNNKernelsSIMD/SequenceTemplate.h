// The fused forward pass of an LSTM or GRU layer over a sequence for one scalar type, included by Sequence.c
// once per type with T (float | double) and NAME(f) (f with the type's suffix).
//
// Each step: every part (a range of hidden units, one thread each) multiplies h_prev by its rows of R
// (prepacked panels, `rnn_prepacked_blocked_*`, the same kernel and summation order as RNNKernels'
// `gemm` on a packed operand), then computes every gate of its hidden units in place (the operations of
// RNNKernels' `forwardInPlace`, in the same order, with the vector functions of VectorMath.c), writes its
// units of the new h, c and the output row, and waits for the other part at a spinning barrier before the
// next step reads the whole of h. With `splitRows` a part is a range of batch rows instead, every hidden
// unit, on R whole: rows never read each other, so there is no barrier. Each element's sum is the same chain
// of fused multiply-adds either way, so the result is bit-identical to the step-by-step Swift driver.

/// Steps every time step for the hidden units (or, with `splitRows`, the batch rows) of part `part`.
static void NAME(sequence_part)(const NAME(rnn_sequence_args) *g, ptrdiff_t part, rnn_barrier *barrier) {
    const ptrdiff_t H = g->hidden, B = g->batch, G = g->kind == RNN_SEQUENCE_LSTM ? 4 : 3, GH = G * H;
    const int byRows = g->splitRows;
    // This part's rows r0 ..< r0 + rows and hidden units j0 ..< j0 + w, and the index of its panels.
    const ptrdiff_t r0 = byRows ? g->bounds[part] : 0, rows = byRows ? g->bounds[part + 1] - r0 : B;
    const ptrdiff_t j0 = byRows ? 0 : g->bounds[part], w = byRows ? H : g->bounds[part + 1] - j0, n = G * w;
    const ptrdiff_t pp = byRows ? 0 : part;
    const ptrdiff_t panels = (n + NAME(rnn_panel_width)() - 1) / NAME(rnn_panel_width)();
    T *rec = rnn_aligned_alloc((size_t)(rnn_max(1, rows * n)) * sizeof(T));
    T *aRow = rnn_aligned_alloc((size_t)rnn_max(1, n) * sizeof(T));
    T *yScratch = rnn_aligned_alloc((size_t)rnn_max(1, n) * sizeof(T));
    T *th = rnn_aligned_alloc((size_t)rnn_max(1, w) * sizeof(T));
    // With the inputs given, each step's input part of this part's gates is computed here, into
    // pre [rows, G·w] (gate block q of row b at b·G·w + q·w), starting from this part's bias: the products
    // and sums `rnn_gemm_blocked` makes over all steps at once, without that [T, B, G·H] buffer.
    const int perStep = g->inputs != NULL;
    const ptrdiff_t I = g->inputSize;
    T *stepPre = perStep ? rnn_aligned_alloc((size_t)rnn_max(1, rows * n) * sizeof(T)) : NULL;
    T *bias = perStep ? rnn_aligned_alloc((size_t)rnn_max(1, n) * sizeof(T)) : NULL;
    if (perStep) {
        for (ptrdiff_t q = 0; q < G; q++) memcpy(bias + q * w, g->inputBias + q * H + j0, (size_t)w * sizeof(T));
    }
    const ptrdiff_t preGate = perStep ? w : H;
    // An LSTM projecting per step adds the recurrent product to stepPre in the product's store: each gate input
    // is pre + r there, the one addition (commuted, the same bits) the gate loop makes otherwise. Only with one
    // depth block (H ≤ KC): past it the product adds each block's sum to C in turn, ((pre + r₁) + r₂), where
    // the gate loop adds pre to the whole sum, pre + (r₁ + r₂).
    const int addInPlace = perStep && g->kind == RNN_SEQUENCE_LSTM && H <= RNN_SIMD_KC;
    const ptrdiff_t *blk = g->blocks;
    int phase = 0;
    for (ptrdiff_t k = 0; k < g->steps; k++) {
        ptrdiff_t t = g->reverse ? g->steps - 1 - k : k;
        const T *hp = (k & 1) ? g->hB : g->hA;
        T *hn = (k & 1) ? g->hA : g->hB;
        T *outStep = g->out + (g->processingOrder ? k : t) * B * H;
        if (w > 0 && rows > 0) {
            // rec [rows, G·w]: block q of row b at b·n + q·w.
            if (perStep) {
                NAME(rnn_prepacked_blocked)(g->inputs + (t * B + r0) * I, I, 1, g->inputPanels[pp], stepPre, n, rows,
                                            n, I, 0, panels, 0, bias);
            }
            NAME(rnn_prepacked_blocked)(hp + r0 * H, H, 1, g->panels[pp], addInPlace ? stepPre : rec, n, rows, n, H, 0,
                                        panels, addInPlace, NULL);
            for (ptrdiff_t b = 0, gb = r0; b < rows; b++, gb++) {
                const T *pre = perStep ? stepPre + b * n : g->projected + (t * B + gb) * GH + j0;
                const T *r = rec + b * n;
                T *hOut = hn + gb * H + j0;
                // The gates after their activations: split by rows, a row's blocks are laid out as in the step
                // cache, so they are written there directly; else here, and copied below.
                T *y = g->gatesOut && byRows ? g->gatesOut[k] + gb * GH : yScratch;
                if (g->kind == RNN_SEQUENCE_LSTM) {
                    T *a = addInPlace ? stepPre + b * n : aRow;
                    if (!addInPlace) {
                        for (ptrdiff_t q = 0; q < 4; q++) {
                            for (ptrdiff_t j = 0; j < w; j++) a[q * w + j] = pre[q * preGate + j] + r[q * w + j];
                        }
                    }
                    const ptrdiff_t bi = blk[0] * w, bf = blk[1] * w, bg = blk[2] * w, bo = blk[3] * w;
                    NAME(rnn_vector_apply)(RNN_VECTOR_SIGMOID, a + bi, y + bi, w);
                    NAME(rnn_vector_apply)(RNN_VECTOR_SIGMOID, a + bf, y + bf, w);
                    NAME(rnn_vector_apply)(RNN_VECTOR_TANH, a + bg, y + bg, w);
                    // c_prev and the new c: in place in c, or (keeping caches) from the step before's cache to
                    // this step's, which the end copies into c.
                    T *c = g->cellsOut ? g->cellsOut[k] + gb * H + j0 : g->c + gb * H + j0;
                    const T *cp = g->cellsOut && k > 0 ? g->cellsOut[k - 1] + gb * H + j0 : g->c + gb * H + j0;
                    // c and cp are the same buffer when updating in place, which the vectorizer's overlap
                    // check refuses (the loop ran scalar there, 1.5% of the forward); element j reads only
                    // index j of each, so the iterations are independent.
#pragma clang loop vectorize(assume_safety)
                    for (ptrdiff_t j = 0; j < w; j++) c[j] = y[bf + j] * cp[j] + y[bi + j] * y[bg + j];
                    NAME(rnn_vector_apply)(RNN_VECTOR_SIGMOID, a + bo, y + bo, w);
                    NAME(rnn_vector_apply)(RNN_VECTOR_TANH, c, th, w);
                    for (ptrdiff_t j = 0; j < w; j++) hOut[j] = th[j] * y[bo + j];
                } else {
                    T *a = aRow;
                    const ptrdiff_t qz = blk[0], qr = blk[1], qn = blk[2];
                    const ptrdiff_t bz = qz * w, br = qr * w, bn = qn * w;
                    const T *rbias = g->recurrentBias + j0;
                    for (ptrdiff_t j = 0; j < w; j++) {
                        a[bz + j] = pre[qz * preGate + j] + (r[bz + j] + rbias[qz * H + j]);
                        a[br + j] = pre[qr * preGate + j] + (r[br + j] + rbias[qr * H + j]);
                    }
                    NAME(rnn_vector_apply)(RNN_VECTOR_SIGMOID, a + bz, y + bz, w);
                    NAME(rnn_vector_apply)(RNN_VECTOR_SIGMOID, a + br, y + br, w);
                    T *reset = g->resetOut ? g->resetOut[k] + gb * H + j0 : NULL;
                    for (ptrdiff_t j = 0; j < w; j++) {
                        T u = r[bn + j] + rbias[qn * H + j];
                        a[bn + j] = pre[qn * preGate + j] + y[br + j] * u;
                        if (reset) reset[j] = u;
                    }
                    NAME(rnn_vector_apply)(RNN_VECTOR_TANH, a + bn, y + bn, w);
                    const T *hPrev = hp + gb * H + j0;
                    if (g->updateSideCandidate) {
                        for (ptrdiff_t j = 0; j < w; j++) hOut[j] = (1 - y[bz + j]) * hPrev[j] + y[bz + j] * y[bn + j];
                    } else {
                        for (ptrdiff_t j = 0; j < w; j++) hOut[j] = y[bz + j] * hPrev[j] + (1 - y[bz + j]) * y[bn + j];
                    }
                }
                memcpy(outStep + gb * H + j0, hOut, (size_t)w * sizeof(T));
                if (g->gatesOut && !byRows) {
                    for (ptrdiff_t q = 0; q < G; q++) {
                        memcpy(g->gatesOut[k] + gb * GH + q * H + j0, y + q * w, (size_t)w * sizeof(T));
                    }
                }
            }
        }
        if (g->parts > 1 && !byRows) rnn_barrier_wait(barrier, &phase);
    }
    if (g->cellsOut && g->steps > 0 && w > 0) {
        for (ptrdiff_t gb = r0; gb < r0 + rows; gb++) {
            memcpy(g->c + gb * H + j0, g->cellsOut[g->steps - 1] + gb * H + j0, (size_t)w * sizeof(T));
        }
    }
    free(rec); free(aRow); free(yScratch); free(th); free(stepPre); free(bias);
}

static void NAME(sequence_part_body)(const void *args, ptrdiff_t part, void *barrier) {
    NAME(sequence_part)(args, part, barrier);
}

int NAME(rnn_sequence_forward)(const NAME(rnn_sequence_args) *args) {
    rnn_barrier barrier;
    rnn_barrier_init(&barrier, (int)args->parts);
    // Split by hidden units, the parts meet at the barrier every step: all or none of them run.
    if (!rnn_run_parts(args->parts, NAME(sequence_part_body), args, &barrier, args->splitRows || args->parts == 1)) {
        return 0;
    }
    // The last step wrote h into hB when the number of steps is odd.
    if (args->steps & 1) memcpy(args->hA, args->hB, (size_t)(args->batch * args->hidden) * sizeof(T));
    return 1;
}
