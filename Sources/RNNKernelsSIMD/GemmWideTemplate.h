// The AVX-512 tiles of `rnn_prepacked_blocked_*` for one scalar type, included by GemmWide.c once per type
// with T (float | double), ZV (its 512-bit vector, one panel row: NR = 16 floats or 8 doubles), ZVU (the same
// at element alignment), NR (panel width), KC (depth block, as GemmTemplate.h), MC (row block, a multiple
// of 8), NAME(f) (f with the type's suffix), ASM_BCAST and ASM_FMA (the AT&T mnemonics) and ASM_ES (element
// size).
//
// Shape legend: A [m, k] (a, ars, acs), B [k, n] in the panels of `rnn_pack_panels_*` (depth block pc at
// panels + pc·nPad, panel q of it at + q·NR·kcur, row p of the panel NR contiguous elements), C [m, n] (ldc).
//
// A zmm register holds one row of a panel, so an 8 × 2·NR tile reads two neighbouring panels side by side
// with no change to their packing: per depth step two 512-bit loads, 8 broadcasts and 16 fused multiply-adds
// into 16 accumulators. On the 2-core Zen 4 (which splits each 512-bit operation in two 256-bit halves, so
// the arithmetic per cycle is the AVX2 tiles') this kernel ran the large LSTM's step products (16 rows,
// 1024 columns, depth 128 and 256, the weights streaming from L3) at 115 GFLOP/s against 110 for 6 × 16
// AVX2 tiles: fewer loads and instructions per multiply-add, and two tiles of 8 rows instead of 6 + 6 + 4.
//
// Summation order: as GemmTemplate.h's tiles, each element of C is one lane accumulating its products in
// order of p from zero with fused multiply-adds per depth block, then added to rowInit or to C (`load`), so
// every result is bit for bit the AVX2 tiles' (GemmWideTests compares the two).

/// Packs rows [0, rows) (a multiple of 8) × columns [0, kc) of X (x, rs, cs) into 8-row panels: panel i holds,
/// for each p, X[8·i ..< 8·i + 8, p] contiguously.
RNN_INLINE void NAME(pack8)(const T *x, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t rows, ptrdiff_t kc, T *dst) {
    for (ptrdiff_t i = 0; i < rows; i += 8) {
        for (ptrdiff_t r = 0; r < 8; r++) {
            const T *src = x + (i + r) * rs;
            for (ptrdiff_t p = 0; p < kc; p++) dst[p * 8 + r] = src[p * cs];
        }
        dst += 8 * kc;
    }
}

RNN_INLINE ZV NAME(zload)(const T *p) { return *(const ZVU *)p; }
RNN_INLINE void NAME(zstore)(T *p, ZV v) { *(ZVU *)p = v; }

/// Writes accumulator `acc` of one tile row into c[0 ..< cols] (cols ≤ NR): added to init when not NULL, else to
/// what c holds when `load`, else as it is; a partial row through the scratch row.
RNN_INLINE void NAME(zstore_row)(ZV acc, T *c, ptrdiff_t cols, int load, const T *init) {
    if (cols == NR) {
        NAME(zstore)(c, init ? NAME(zload)(init) + acc : load ? NAME(zload)(c) + acc : acc);
        return;
    }
    T row[NR];
    NAME(zstore)(row, acc);
    for (ptrdiff_t j = 0; j < cols; j++) c[j] = init ? init[j] + row[j] : load ? c[j] + row[j] : row[j];
}

/// Asks for the lines of 8 rows of C, `lines` cache lines each, before a tile's loop (as `prefetch_tile`).
RNN_INLINE void NAME(zprefetch)(T *c, ptrdiff_t ldc, ptrdiff_t cols) {
    for (ptrdiff_t r = 0; r < 8; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + cols - 1, 1, 3);
    }
}

/// One 8 × 2·NR tile: C[0 ..< 8, 0 ..< cols] (+)= Apanel · [panel b0 | panel b1] over kc (cols in (NR, 2·NR]).
RNN_INLINE void NAME(tile8x2)(ptrdiff_t kc, const T *a, const T *b0, const T *b1, T *c, ptrdiff_t ldc,
                              ptrdiff_t cols, int load, const T *init) {
    ZV c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    ZV c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0}, c60 = {0}, c61 = {0}, c70 = {0}, c71 = {0};
    NAME(zprefetch)(c, ldc, cols);
    if (kc > 0) {
        // In assembly, as GemmTemplate.h's loops, so that debug builds (C at -O0) run it at full speed.
        ptrdiff_t steps = kc;
        const T *pa = a, *p0 = b0, *p1 = b1;
        __asm__ volatile(
            "1:\n\t"
            "vmovups (%[p0]), %%zmm30\n\t"
            "vmovups (%[p1]), %%zmm31\n\t"
            ASM_BCAST " 0*" ASM_ES "(%[pa]), %%zmm29\n\t"
            ASM_FMA " %%zmm30, %%zmm29, %[c00]\n\t" ASM_FMA " %%zmm31, %%zmm29, %[c01]\n\t"
            ASM_BCAST " 1*" ASM_ES "(%[pa]), %%zmm28\n\t"
            ASM_FMA " %%zmm30, %%zmm28, %[c10]\n\t" ASM_FMA " %%zmm31, %%zmm28, %[c11]\n\t"
            ASM_BCAST " 2*" ASM_ES "(%[pa]), %%zmm29\n\t"
            ASM_FMA " %%zmm30, %%zmm29, %[c20]\n\t" ASM_FMA " %%zmm31, %%zmm29, %[c21]\n\t"
            ASM_BCAST " 3*" ASM_ES "(%[pa]), %%zmm28\n\t"
            ASM_FMA " %%zmm30, %%zmm28, %[c30]\n\t" ASM_FMA " %%zmm31, %%zmm28, %[c31]\n\t"
            ASM_BCAST " 4*" ASM_ES "(%[pa]), %%zmm29\n\t"
            ASM_FMA " %%zmm30, %%zmm29, %[c40]\n\t" ASM_FMA " %%zmm31, %%zmm29, %[c41]\n\t"
            ASM_BCAST " 5*" ASM_ES "(%[pa]), %%zmm28\n\t"
            ASM_FMA " %%zmm30, %%zmm28, %[c50]\n\t" ASM_FMA " %%zmm31, %%zmm28, %[c51]\n\t"
            ASM_BCAST " 6*" ASM_ES "(%[pa]), %%zmm29\n\t"
            ASM_FMA " %%zmm30, %%zmm29, %[c60]\n\t" ASM_FMA " %%zmm31, %%zmm29, %[c61]\n\t"
            ASM_BCAST " 7*" ASM_ES "(%[pa]), %%zmm28\n\t"
            ASM_FMA " %%zmm30, %%zmm28, %[c70]\n\t" ASM_FMA " %%zmm31, %%zmm28, %[c71]\n\t"
            "add $8*" ASM_ES ", %[pa]\n\t"
            "add $" NR_BYTES ", %[p0]\n\t"
            "add $" NR_BYTES ", %[p1]\n\t"
            "dec %[steps]\n\t"
            "jnz 1b\n\t"
            : [c00] "+v"(c00), [c01] "+v"(c01), [c10] "+v"(c10), [c11] "+v"(c11), [c20] "+v"(c20), [c21] "+v"(c21),
              [c30] "+v"(c30), [c31] "+v"(c31), [c40] "+v"(c40), [c41] "+v"(c41), [c50] "+v"(c50), [c51] "+v"(c51),
              [c60] "+v"(c60), [c61] "+v"(c61), [c70] "+v"(c70), [c71] "+v"(c71),
              [pa] "+r"(pa), [p0] "+r"(p0), [p1] "+r"(p1), [steps] "+r"(steps)
            :
            : "xmm28", "xmm29", "xmm30", "xmm31", "cc", "memory");
    }
    ZV left[8] = {c00, c10, c20, c30, c40, c50, c60, c70}, right[8] = {c01, c11, c21, c31, c41, c51, c61, c71};
    for (ptrdiff_t r = 0; r < 8; r++) {
        NAME(zstore_row)(left[r], c + r * ldc, NR, load, init);
        NAME(zstore_row)(right[r], c + r * ldc + NR, cols - NR, load, init ? init + NR : NULL);
    }
}

/// One 8 × NR tile on a single panel (the last of an odd count): C[0 ..< 8, 0 ..< cols] (+)= Apanel · panel b.
RNN_INLINE void NAME(tile8x1)(ptrdiff_t kc, const T *a, const T *b, T *c, ptrdiff_t ldc, ptrdiff_t cols, int load,
                              const T *init) {
    ZV c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0}, c6 = {0}, c7 = {0};
    NAME(zprefetch)(c, ldc, cols);
    if (kc > 0) {
        ptrdiff_t steps = kc;
        const T *pa = a, *pb = b;
        __asm__ volatile(
            "1:\n\t"
            "vmovups (%[pb]), %%zmm30\n\t"
            ASM_BCAST " 0*" ASM_ES "(%[pa]), %%zmm29\n\t" ASM_FMA " %%zmm30, %%zmm29, %[c0]\n\t"
            ASM_BCAST " 1*" ASM_ES "(%[pa]), %%zmm28\n\t" ASM_FMA " %%zmm30, %%zmm28, %[c1]\n\t"
            ASM_BCAST " 2*" ASM_ES "(%[pa]), %%zmm29\n\t" ASM_FMA " %%zmm30, %%zmm29, %[c2]\n\t"
            ASM_BCAST " 3*" ASM_ES "(%[pa]), %%zmm28\n\t" ASM_FMA " %%zmm30, %%zmm28, %[c3]\n\t"
            ASM_BCAST " 4*" ASM_ES "(%[pa]), %%zmm29\n\t" ASM_FMA " %%zmm30, %%zmm29, %[c4]\n\t"
            ASM_BCAST " 5*" ASM_ES "(%[pa]), %%zmm28\n\t" ASM_FMA " %%zmm30, %%zmm28, %[c5]\n\t"
            ASM_BCAST " 6*" ASM_ES "(%[pa]), %%zmm29\n\t" ASM_FMA " %%zmm30, %%zmm29, %[c6]\n\t"
            ASM_BCAST " 7*" ASM_ES "(%[pa]), %%zmm28\n\t" ASM_FMA " %%zmm30, %%zmm28, %[c7]\n\t"
            "add $8*" ASM_ES ", %[pa]\n\t"
            "add $" NR_BYTES ", %[pb]\n\t"
            "dec %[steps]\n\t"
            "jnz 1b\n\t"
            : [c0] "+v"(c0), [c1] "+v"(c1), [c2] "+v"(c2), [c3] "+v"(c3), [c4] "+v"(c4), [c5] "+v"(c5), [c6] "+v"(c6),
              [c7] "+v"(c7), [pa] "+r"(pa), [pb] "+r"(pb), [steps] "+r"(steps)
            :
            : "xmm28", "xmm29", "xmm30", "cc", "memory");
    }
    ZV acc[8] = {c0, c1, c2, c3, c4, c5, c6, c7};
    for (ptrdiff_t r = 0; r < 8; r++) NAME(zstore_row)(acc[r], c + r * ldc, cols, load, init);
}

void NAME(rnn_prepacked_blocked_wide)(const T *a, ptrdiff_t ars, ptrdiff_t acs, const T *panels, T *c, ptrdiff_t ldc,
                                      ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t q0, ptrdiff_t q1, int accumulate,
                                      const T *rowInit) {
    rnn_simd_count_wide_products(1);
    ptrdiff_t nPad = (n + NR - 1) / NR * NR;
    ptrdiff_t kcMax = rnn_min(KC, k), mcMax = rnn_min(MC, m);
    T *packedA = rnn_aligned_alloc((size_t)(mcMax * kcMax) * sizeof(T));
    for (ptrdiff_t pc = 0; pc < k; ) {
        ptrdiff_t kcur = rnn_min(KC, k - pc);
        const T *block = panels + pc * nPad;
        const T *init = pc == 0 && rowInit ? rowInit : NULL;
        int load = !init && (accumulate || pc > 0);
        for (ptrdiff_t ic = 0; ic < m; ) {
            ptrdiff_t mcur = rnn_min(MC, m - ic);
            NAME(pack8)(a + ic * ars + pc * acs, ars, acs, mcur, kcur, packedA);
            for (ptrdiff_t q = q0; q < q1; q += 2) {
                ptrdiff_t jr = q * NR, cols = rnn_min(2 * NR, n - jr);
                const T *pb = block + q * NR * kcur;
                for (ptrdiff_t ir = 0; ir < mcur; ir += 8) {
                    T *ct = c + (ic + ir) * ldc + jr;
                    const T *it = init ? init + jr : NULL;
                    if (q + 1 < q1) {
                        NAME(tile8x2)(kcur, packedA + ir * kcur, pb, pb + NR * kcur, ct, ldc, cols, load, it);
                    } else {
                        NAME(tile8x1)(kcur, packedA + ir * kcur, pb, ct, ldc, rnn_min(NR, cols), load, it);
                    }
                }
            }
            ic += mcur;
        }
        pc += kcur;
    }
    free(packedA);
}
