// Backpropagation through a block of steps of an LSTM or GRU layer for one scalar type, included by
// Sequence.c once per type with T (float | double) and NAME(f) (f with the type's suffix).
//
// Shape legend: B batch, H hidden (the state size), G gates, GH = G·H; a part's rows r0 ..< r0 + rows.
//
// Each part (a range of batch rows, one thread each) runs its rows through every step of the block: the
// output's gradient added to dh, the gate gradients of `lstmBackwardStep` / `gruBackwardStepResetAfter`
// (RNNKernels) for sigmoid gates and tanh candidate and output, in the same operations and order, then its
// rows of dh_prev = dR · R on the packed panels (`rnn_prepacked_blocked_*`, as `gemmRows` runs them). A
// row's gradients never read another row's, so the parts never wait for each other; the weight gradients,
// sums over rows, are the caller's, over the block's da.

/// Steps every step of the block for the rows of part `part`.
static void NAME(backward_part)(const NAME(rnn_sequence_backward_args) *g, ptrdiff_t part) {
    const ptrdiff_t H = g->hidden, B = g->batch, G = g->kind == RNN_SEQUENCE_LSTM ? 4 : 3, GH = G * H;
    const ptrdiff_t r0 = g->bounds[part], rows = g->bounds[part + 1] - r0;
    if (rows <= 0 || H <= 0) return;
    const ptrdiff_t panels = (H + NAME(rnn_panel_width)() - 1) / NAME(rnn_panel_width)();
    const ptrdiff_t *blk = g->blocks;
    T *hc = rnn_aligned_alloc((size_t)(rows * H) * sizeof(T));
    T *dhPrev = rnn_aligned_alloc((size_t)(rows * H) * sizeof(T));
    T *dh = g->dh + r0 * H;
    for (ptrdiff_t j = 0; j < g->steps; j++) {
        if (g->dy[j]) {
            const T *dy = g->dy[j] + r0 * H;
            for (ptrdiff_t e = 0; e < rows * H; e++) dh[e] += dy[e];
        }
        const T *gates = g->gates[j] + r0 * GH;
        T *da = g->da + (j * B + r0) * GH;
        const T *dRec = da;
        if (g->kind == RNN_SEQUENCE_LSTM) {
            const ptrdiff_t ki = blk[0] * H, kf = blk[1] * H, kg = blk[2] * H, ko = blk[3] * H;
            const T *c = g->states[j] + r0 * H, *cp = g->cPrev[j] + r0 * H;
            T *dc = g->dc + r0 * H;
            // h(c), as the forward pass computed it.
            NAME(rnn_vector_apply)(RNN_VECTOR_TANH, c, hc, rows * H);
            for (ptrdiff_t row = 0; row < rows; row++) {
                const ptrdiff_t base = row * GH;
                for (ptrdiff_t u = 0; u < H; u++) {
                    const ptrdiff_t q = row * H + u;
                    const T iv = gates[base + ki + u], fv = gates[base + kf + u];
                    const T gv = gates[base + kg + u], ov = gates[base + ko + u];
                    const T hcv = hc[q], dOut = dh[q];
                    const T dcv = dc[q] + dOut * ov * (1 - hcv * hcv);
                    da[base + ko + u] = dOut * hcv * (ov * (1 - ov));
                    da[base + kf + u] = dcv * cp[q] * (fv * (1 - fv));
                    da[base + ki + u] = dcv * gv * (iv * (1 - iv));
                    da[base + kg + u] = dcv * iv * (1 - gv * gv);
                    dc[q] = dcv * fv;
                }
            }
            memset(dhPrev, 0, (size_t)(rows * H) * sizeof(T));
        } else {
            const ptrdiff_t kz = blk[0] * H, kr = blk[1] * H, kn = blk[2] * H;
            const T *hp = g->hPrev[j] + r0 * H, *ri = g->states[j] + r0 * H;
            T *dr = g->dRecurrent + (j * B + r0) * GH;
            dRec = dr;
            const int candidateSide = g->updateSideCandidate;
            for (ptrdiff_t row = 0; row < rows; row++) {
                const ptrdiff_t base = row * GH;
                for (ptrdiff_t u = 0; u < H; u++) {
                    const ptrdiff_t q = row * H + u;
                    const T d = dh[q];
                    const T z = gates[base + kz + u], nv = gates[base + kn + u], r = gates[base + kr + u];
                    T dz, dnv;
                    // dh_prev starts from zeros, as the Swift step's (0 + x, not x: the sign of a zero).
                    if (candidateSide) {
                        dz = d * (nv - hp[q]); dnv = d * z; dhPrev[q] = (T)0 + d * (1 - z);
                    } else {
                        dz = d * (hp[q] - nv); dnv = d * (1 - z); dhPrev[q] = (T)0 + d * z;
                    }
                    const T sz = z * (1 - z), sn = 1 - nv * nv, sr = r * (1 - r);
                    const T daz = dz * sz, dn = dnv * sn, dar = dn * ri[q] * sr;
                    da[base + kz + u] = daz;
                    da[base + kn + u] = dn;
                    da[base + kr + u] = dar;
                    dr[base + kz + u] = daz;
                    dr[base + kr + u] = dar;
                    dr[base + kn + u] = dn * r;
                }
            }
        }
        NAME(rnn_prepacked_blocked)(dRec, GH, 1, g->panels, dhPrev, H, rows, H, GH, 0, panels, 1, NULL);
        memcpy(dh, dhPrev, (size_t)(rows * H) * sizeof(T));
    }
    free(hc); free(dhPrev);
}

static void NAME(backward_part_body)(const void *args, ptrdiff_t part, void *shared) {
    (void)shared;
    NAME(backward_part)(args, part);
}

void NAME(rnn_sequence_backward)(const NAME(rnn_sequence_backward_args) *args) {
    // The parts never meet: one whose thread cannot be created runs on the calling thread.
    rnn_run_parts(args->parts, NAME(backward_part_body), args, NULL, 1);
}
