// The packed matrix-product kernels for one scalar type, included by Gemm.c once per type with
//   T (float | double), V (its 256-bit vector), VU (the same at element alignment), W (lanes), KC, MC, NC
//   (block sizes), SPLAT(x) (x in every lane) and NAME(f) (f with the type's suffix).
//
// Scheme (Goto / BLIS): for each column block of C (NC wide) and depth block (KC deep), B's block is packed
// into panels NR = 2·W wide; for each row block (MC high) A's block is packed into panels MR high; the
// micro-kernel then computes each MR × NR tile of C with 12 vector accumulators held in registers
// (12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers), and a 4 × NR twin the last
// 4 or 8 rows of a block that 6 does not divide (B = 32 is 6 + 6 + 6 + 6 + 4 + 4). Transposes are handled by the
// packing; edge tiles by zero-padded panels and a scratch tile. Block sizes: a KC × NR panel of B stays in
// L1, the MC × KC block of A in L2, the KC × NC block of B in L3.
//
// On x86-64 the three inner loops (micro-kernel, dot product, row kernel) are also written in assembly
// (RNN_GEMM_ASM): the same instructions in the same order as the C next to them, because debug builds
// compile C at -O0, where the C loops keep their accumulators in memory and run several times slower.
// Expects ASM_BCAST (vbroadcastss | vbroadcastsd), ASM_FMA (vfmadd231ps | vfmadd231pd) and ASM_ES (the
// element size, "4" | "8") there.
//
// Summation order (which the results' last bits depend on): each element of C is one vector lane that
// accumulates its products in order of p, with fused multiply-adds, per depth block; later depth blocks
// and `accumulate` add the block's sum to what C holds.

#define NR (2 * W)
#define MR RNN_SIMD_MR

RNN_INLINE V NAME(load)(const T *p) { return *(const VU *)p; }
RNN_INLINE void NAME(store)(T *p, V v) { *(VU *)p = v; }

/// Packs rows [0, rows) × columns [0, kc) of X (x, rs, cs) into panels `width` rows high: panel q holds, for
/// each p, the values X[q·width + r, p] (r < width) contiguously; rows past `rows` are zero. A is packed as
/// itself (width MR); B as its transpose (width NR), so that a panel holds, for each p, B[p, j ..< j + NR].
static void NAME(pack)(const T *x, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t rows, ptrdiff_t kc, ptrdiff_t width, T *dst) {
    T *d = dst;
    for (ptrdiff_t i = 0; i < rows; i += width) {
        ptrdiff_t h = rnn_min(width, rows - i);
        if (h == width && rs == 1) {
            // The panel's rows are contiguous in memory: copy width values per p.
            for (ptrdiff_t p = 0; p < kc; p++) memcpy(d + p * width, x + i + p * cs, (size_t)width * sizeof(T));
        } else {
            for (ptrdiff_t r = 0; r < width; r++) {
                if (r < h) {
                    const T *src = x + (i + r) * rs;
                    for (ptrdiff_t p = 0; p < kc; p++) d[p * width + r] = src[p * cs];
                } else {
                    for (ptrdiff_t p = 0; p < kc; p++) d[p * width + r] = 0;
                }
            }
        }
        d += width * kc;
    }
}

/// Stores a tile's accumulators (acc[2·r], acc[2·r + 1]: row r's two vectors, for r < tileRows) into C[0 ..< rows,
/// 0 ..< cols]: added to init[0 ..< cols] in every row when `init` is not NULL, else to what C holds when
/// `load`, else as they are. Full tiles go straight to C; edge tiles through the scratch tile (MR × NR).
RNN_INLINE void NAME(store_tile)(const V *acc, ptrdiff_t tileRows, T *c, ptrdiff_t ldc, ptrdiff_t rows,
                                 ptrdiff_t cols, int load, const T *init, T *scratch) {
    if (rows == tileRows && cols == NR) {
        for (ptrdiff_t r = 0; r < tileRows; r++) {
            T *out = c + r * ldc;
            if (init) {
                NAME(store)(out, NAME(load)(init) + acc[2 * r]);
                NAME(store)(out + W, NAME(load)(init + W) + acc[2 * r + 1]);
            } else if (load) {
                NAME(store)(out, NAME(load)(out) + acc[2 * r]);
                NAME(store)(out + W, NAME(load)(out + W) + acc[2 * r + 1]);
            } else {
                NAME(store)(out, acc[2 * r]);
                NAME(store)(out + W, acc[2 * r + 1]);
            }
        }
        return;
    }
    for (ptrdiff_t r = 0; r < tileRows; r++) {
        NAME(store)(scratch + r * NR, acc[2 * r]);
        NAME(store)(scratch + r * NR + W, acc[2 * r + 1]);
    }
    for (ptrdiff_t r = 0; r < rows; r++) {
        T *dst = c + r * ldc;
        const T *src = scratch + r * NR;
        if (init) { for (ptrdiff_t j = 0; j < cols; j++) dst[j] = init[j] + src[j]; }
        else if (load) { for (ptrdiff_t j = 0; j < cols; j++) dst[j] += src[j]; }
        else { for (ptrdiff_t j = 0; j < cols; j++) dst[j] = src[j]; }
    }
}

/// Asks for the lines of a tile's rows of C (rows × NR from c) before the tile's loop, which then hides their
/// arrival: on products whose C outgrows the caches (2048²) the tile's store otherwise waited for C's
/// lines, 17% of the time in `perf`. A prefetch changes no result and cannot fault.
RNN_INLINE void NAME(prefetch_tile)(T *c, ptrdiff_t ldc, ptrdiff_t rows) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + NR - 1, 1, 3);
    }
}

/// One MR × NR tile: C[0 ..< rows, 0 ..< cols] (+)= Apanel · Bpanel over kc; row p of the B panel starts at
/// b + p · ldb (NR when packed, the row stride of B when read in place). `load`: add to what C holds;
/// `init` (when not NULL, instead of `load`): add to init[0 ..< cols] in every row, C[i, j] = init[j] + sum,
/// the bits of C filled with the row and then added to.
RNN_INLINE void NAME(micro_kernel)(ptrdiff_t kc, const T *a, const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc,
                                   ptrdiff_t rows, ptrdiff_t cols, int load, const T *init, T *scratch) {
    V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0};
    V c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
    const T *pa = a, *pb = b;
    NAME(prefetch_tile)(c, ldc, rows);
#if RNN_GEMM_ASM
    // The same loop in assembly (what the compiler makes of the C below when optimizing), so that debug
    // builds, which compile C at -O0 and would keep every accumulator in memory, run it at full speed.
    if (kc > 0) {
        ptrdiff_t steps = kc, bstep = ldb * (ptrdiff_t)sizeof(T);
        __asm__ volatile(
            "1:\n\t"
            "vmovups (%[pb]), %%ymm12\n\t"
            "vmovups 32(%[pb]), %%ymm13\n\t"
            ASM_BCAST " 0*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c00]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c01]\n\t"
            ASM_BCAST " 1*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c10]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c11]\n\t"
            ASM_BCAST " 2*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c20]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c21]\n\t"
            ASM_BCAST " 3*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c30]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c31]\n\t"
            ASM_BCAST " 4*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c40]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c41]\n\t"
            ASM_BCAST " 5*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c50]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c51]\n\t"
            "add $6*" ASM_ES ", %[pa]\n\t"
            "add %[bstep], %[pb]\n\t"
            "dec %[steps]\n\t"
            "jnz 1b\n\t"
            : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [c20] "+x"(c20), [c21] "+x"(c21),
              [c30] "+x"(c30), [c31] "+x"(c31), [c40] "+x"(c40), [c41] "+x"(c41), [c50] "+x"(c50), [c51] "+x"(c51),
              [pa] "+r"(pa), [pb] "+r"(pb), [steps] "+r"(steps)
            : [bstep] "r"(bstep)
            : "xmm12", "xmm13", "xmm14", "cc", "memory");
    }
#else
    for (ptrdiff_t p = 0; p < kc; p++) {
        V b0 = NAME(load)(pb), b1 = NAME(load)(pb + W);
        V x = SPLAT(pa[0]);
        c00 = FMA(x, b0, c00); c01 = FMA(x, b1, c01);
        x = SPLAT(pa[1]);
        c10 = FMA(x, b0, c10); c11 = FMA(x, b1, c11);
        x = SPLAT(pa[2]);
        c20 = FMA(x, b0, c20); c21 = FMA(x, b1, c21);
        x = SPLAT(pa[3]);
        c30 = FMA(x, b0, c30); c31 = FMA(x, b1, c31);
        x = SPLAT(pa[4]);
        c40 = FMA(x, b0, c40); c41 = FMA(x, b1, c41);
        x = SPLAT(pa[5]);
        c50 = FMA(x, b0, c50); c51 = FMA(x, b1, c51);
        pa += MR;
        pb += ldb;
    }
#endif
    V acc[2 * MR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    NAME(store_tile)(acc, MR, c, ldc, rows, cols, load, init, scratch);
}

/// The 4 × NR twin of `micro_kernel` (8 accumulators: on a core whose fused multiply-add takes 4 cycles on
/// each of 2 pipes, still one per pipe per cycle), for row counts the 6-row tile does not divide: 32 rows
/// are 6 + 6 + 6 + 6 + 4 + 4 instead of six 6-row tiles, one of them two-thirds empty. Each element is the
/// same chain of fused multiply-adds in order of p as in `micro_kernel`, so the bits do not depend on
/// which kernel computed it.
RNN_INLINE void NAME(micro_kernel4)(ptrdiff_t kc, const T *a, const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc,
                                    ptrdiff_t rows, ptrdiff_t cols, int load, const T *init, T *scratch) {
    V c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    const T *pa = a, *pb = b;
    NAME(prefetch_tile)(c, ldc, rows);
#if RNN_GEMM_ASM
    if (kc > 0) {
        ptrdiff_t steps = kc, bstep = ldb * (ptrdiff_t)sizeof(T);
        __asm__ volatile(
            "1:\n\t"
            "vmovups (%[pb]), %%ymm12\n\t"
            "vmovups 32(%[pb]), %%ymm13\n\t"
            ASM_BCAST " 0*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c00]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c01]\n\t"
            ASM_BCAST " 1*" ASM_ES "(%[pa]), %%ymm15\n\t"
            ASM_FMA " %%ymm12, %%ymm15, %[c10]\n\t" ASM_FMA " %%ymm13, %%ymm15, %[c11]\n\t"
            ASM_BCAST " 2*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " %%ymm12, %%ymm14, %[c20]\n\t" ASM_FMA " %%ymm13, %%ymm14, %[c21]\n\t"
            ASM_BCAST " 3*" ASM_ES "(%[pa]), %%ymm15\n\t"
            ASM_FMA " %%ymm12, %%ymm15, %[c30]\n\t" ASM_FMA " %%ymm13, %%ymm15, %[c31]\n\t"
            "add $4*" ASM_ES ", %[pa]\n\t"
            "add %[bstep], %[pb]\n\t"
            "dec %[steps]\n\t"
            "jnz 1b\n\t"
            : [c00] "+x"(c00), [c01] "+x"(c01), [c10] "+x"(c10), [c11] "+x"(c11), [c20] "+x"(c20), [c21] "+x"(c21),
              [c30] "+x"(c30), [c31] "+x"(c31), [pa] "+r"(pa), [pb] "+r"(pb), [steps] "+r"(steps)
            : [bstep] "r"(bstep)
            : "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
    }
#else
    for (ptrdiff_t p = 0; p < kc; p++) {
        V b0 = NAME(load)(pb), b1 = NAME(load)(pb + W);
        V x = SPLAT(pa[0]);
        c00 = FMA(x, b0, c00); c01 = FMA(x, b1, c01);
        x = SPLAT(pa[1]);
        c10 = FMA(x, b0, c10); c11 = FMA(x, b1, c11);
        x = SPLAT(pa[2]);
        c20 = FMA(x, b0, c20); c21 = FMA(x, b1, c21);
        x = SPLAT(pa[3]);
        c30 = FMA(x, b0, c30); c31 = FMA(x, b1, c31);
        pa += 4;
        pb += ldb;
    }
#endif
    V acc[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
    NAME(store_tile)(acc, 4, c, ldc, rows, cols, load, init, scratch);
}

/// Rows of an m-row block computed by 6-row tiles (the rest by 4-row tiles, `micro_kernel4`): all of them
/// but a last 4 (m = 6q + 4) or a last 8 (m = 6q + 2, q ≥ 1); other remainders are a zero-padded 6-row tile.
RNN_INLINE ptrdiff_t NAME(six_row_part)(ptrdiff_t m) {
    ptrdiff_t r = m % MR;
    if (r == 4) return m - 4;
    if (r == 2 && m >= 8) return m - 8;
    return m;
}

/// Packs an m-row block of A (x, rs, cs) over kc as `six_row_part(m)` rows in 6-row panels, then the rest in
/// 4-row panels right after them.
RNN_INLINE void NAME(pack_rows)(const T *x, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t m, ptrdiff_t kc, T *dst) {
    ptrdiff_t six = NAME(six_row_part)(m);
    NAME(pack)(x, rs, cs, six, kc, MR, dst);
    if (six < m) NAME(pack)(x + six * rs, rs, cs, m - six, kc, 4, dst + (six + MR - 1) / MR * MR * kc);
}

/// C (+)= the packed m-row block (`pack_rows`) times one panel of B over kc: its 6-row tiles, then its
/// 4-row tiles. `init`, `load`: as `micro_kernel`.
RNN_INLINE void NAME(panel_tiles)(ptrdiff_t kc, const T *packedA, ptrdiff_t m, const T *pb, ptrdiff_t ldb, T *c,
                                  ptrdiff_t ldc, ptrdiff_t cols, int load, const T *init, T *scratch) {
    ptrdiff_t six = NAME(six_row_part)(m);
    for (ptrdiff_t ir = 0; ir < six; ir += MR) {
        NAME(micro_kernel)(kc, packedA + ir * kc, pb, ldb, c + ir * ldc, ldc, rnn_min(MR, six - ir), cols, load, init,
                           scratch);
    }
    const T *rest = packedA + (six + MR - 1) / MR * MR * kc;
    for (ptrdiff_t ir = six; ir < m; ir += 4) {
        NAME(micro_kernel4)(kc, rest + (ir - six) * kc, pb, ldb, c + ir * ldc, ldc, 4, cols, load, init, scratch);
    }
}

/// Up to this many rows of A, A · B reads B in place instead of packing it (faster at 16 and 32 rows,
/// slower from 64).
#define DIRECT_MAX_ROWS 40

void NAME(rnn_gemm_blocked)(const T *a, ptrdiff_t ars, ptrdiff_t acs, const T *b, ptrdiff_t brs, ptrdiff_t bcs,
                            T *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int accumulate,
                            const T *rowInit) {
    if (m <= 0 || n <= 0 || k <= 0) return;
    ptrdiff_t kcMax = rnn_min(KC, k);
    ptrdiff_t mcMax = rnn_min(MC, (m + MR - 1) / MR * MR);
    ptrdiff_t ncMax = rnn_min(NC, (n + NR - 1) / NR * NR);
    T *packedA = rnn_aligned_alloc((size_t)(mcMax * kcMax) * sizeof(T));
    T *packedB = rnn_aligned_alloc((size_t)(ncMax * kcMax) * sizeof(T));
    T *scratch = rnn_aligned_alloc((size_t)(MR * NR) * sizeof(T));
    // With few rows, B (row-major) is read in place: packing it would cost about as much as the product.
    int direct = bcs == 1 && m <= DIRECT_MAX_ROWS;

    for (ptrdiff_t jc = 0; jc < n; ) {
        ptrdiff_t ncur = rnn_min(NC, n - jc);
        for (ptrdiff_t pc = 0; pc < k; ) {
            ptrdiff_t kcur = rnn_min(KC, k - pc);
            // B's block [pc, pc + kcur) × [jc, jc + ncur), as its transpose.
            const T *bblock = b + pc * brs + jc * bcs;
            if (!direct) NAME(pack)(bblock, bcs, brs, ncur, kcur, NR, packedB);
            // The first depth block adds to the initial row when there is one, to C when accumulating.
            const T *init = pc == 0 && rowInit ? rowInit + jc : NULL;
            int load = !init && (accumulate || pc > 0);
            for (ptrdiff_t ic = 0; ic < m; ) {
                ptrdiff_t mcur = rnn_min(MC, m - ic);
                NAME(pack_rows)(a + ic * ars + pc * acs, ars, acs, mcur, kcur, packedA);
                for (ptrdiff_t jr = 0; jr < ncur; jr += NR) {
                    ptrdiff_t cols = rnn_min(NR, ncur - jr);
                    const T *pb = packedB + jr * kcur;
                    ptrdiff_t ldb = NR;
                    if (direct) {
                        if (cols == NR) {
                            pb = bblock + jr; ldb = brs;
                        } else if (ic == 0) {
                            NAME(pack)(bblock + jr * bcs, bcs, brs, cols, kcur, NR, packedB + jr * kcur);
                        }
                    }
                    NAME(panel_tiles)(kcur, packedA, mcur, pb, ldb, c + ic * ldc + jc + jr, ldc, cols, load,
                                      init ? init + jr : NULL, scratch);
                }
                ic += mcur;
            }
            pc += kcur;
        }
        jc += ncur;
    }
    free(packedA); free(packedB); free(scratch);
}

/// The lanes of v summed in order (lane 0 first), as Swift's `SIMD.sum()`.
RNN_INLINE T NAME(sum)(V v) {
    T s = v[0];
    for (int i = 1; i < W; i++) s += v[i];
    return s;
}

/// Rows and columns past the edge repeat the last one and are not stored.
void NAME(rnn_gemm_dot)(const T *a, const T *b, T *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                        ptrdiff_t lda, ptrdiff_t ldb, int accumulate) {
    ptrdiff_t kv = k / W * W;
    for (ptrdiff_t j = 0; j < n; j += RNN_SIMD_DOT_COLS) {
        const T *b0 = b + j * ldb, *b1 = b + rnn_min(j + 1, n - 1) * ldb;
        const T *b2 = b + rnn_min(j + 2, n - 1) * ldb, *b3 = b + rnn_min(j + 3, n - 1) * ldb;
        const T *bs[4] = {b0, b1, b2, b3};
        ptrdiff_t cols = rnn_min(RNN_SIMD_DOT_COLS, n - j);
        for (ptrdiff_t i = 0; i < m; i += 2) {
            const T *a0 = a + i * lda, *a1 = a + rnn_min(i + 1, m - 1) * lda;
            V s00 = {0}, s01 = {0}, s02 = {0}, s03 = {0};
            V s10 = {0}, s11 = {0}, s12 = {0}, s13 = {0};
#if RNN_GEMM_ASM
            if (kv > 0) {
                ptrdiff_t offset = 0, end = kv * (ptrdiff_t)sizeof(T);
                __asm__ volatile(
                    "1:\n\t"
                    "vmovups (%[b0],%[offset]), %%ymm8\n\t"
                    "vmovups (%[b1],%[offset]), %%ymm9\n\t"
                    "vmovups (%[b2],%[offset]), %%ymm10\n\t"
                    "vmovups (%[b3],%[offset]), %%ymm11\n\t"
                    "vmovups (%[a0],%[offset]), %%ymm12\n\t"
                    ASM_FMA " %%ymm8, %%ymm12, %[s00]\n\t" ASM_FMA " %%ymm9, %%ymm12, %[s01]\n\t"
                    ASM_FMA " %%ymm10, %%ymm12, %[s02]\n\t" ASM_FMA " %%ymm11, %%ymm12, %[s03]\n\t"
                    "vmovups (%[a1],%[offset]), %%ymm12\n\t"
                    ASM_FMA " %%ymm8, %%ymm12, %[s10]\n\t" ASM_FMA " %%ymm9, %%ymm12, %[s11]\n\t"
                    ASM_FMA " %%ymm10, %%ymm12, %[s12]\n\t" ASM_FMA " %%ymm11, %%ymm12, %[s13]\n\t"
                    "add $32, %[offset]\n\t"
                    "cmp %[end], %[offset]\n\t"
                    "jl 1b\n\t"
                    : [s00] "+x"(s00), [s01] "+x"(s01), [s02] "+x"(s02), [s03] "+x"(s03),
                      [s10] "+x"(s10), [s11] "+x"(s11), [s12] "+x"(s12), [s13] "+x"(s13), [offset] "+r"(offset)
                    : [a0] "r"(a0), [a1] "r"(a1), [b0] "r"(b0), [b1] "r"(b1), [b2] "r"(b2), [b3] "r"(b3), [end] "r"(end)
                    : "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "cc", "memory");
            }
#else
            for (ptrdiff_t p = 0; p < kv; p += W) {
                V y0 = NAME(load)(b0 + p), y1 = NAME(load)(b1 + p), y2 = NAME(load)(b2 + p), y3 = NAME(load)(b3 + p);
                V x = NAME(load)(a0 + p);
                s00 = FMA(x, y0, s00); s01 = FMA(x, y1, s01);
                s02 = FMA(x, y2, s02); s03 = FMA(x, y3, s03);
                x = NAME(load)(a1 + p);
                s10 = FMA(x, y0, s10); s11 = FMA(x, y1, s11);
                s12 = FMA(x, y2, s12); s13 = FMA(x, y3, s13);
            }
#endif
            for (int r = 0; r < 2; r++) {
                if (i + r >= m) break;
                const T *ar = r == 0 ? a0 : a1;
                T sums[4];
                sums[0] = NAME(sum)(r == 0 ? s00 : s10); sums[1] = NAME(sum)(r == 0 ? s01 : s11);
                sums[2] = NAME(sum)(r == 0 ? s02 : s12); sums[3] = NAME(sum)(r == 0 ? s03 : s13);
                // The tail past the last whole vector: a rounded product and a rounded sum per term.
                for (ptrdiff_t q = kv; q < k; q++) {
                    for (int t = 0; t < 4; t++) sums[t] += ar[q] * bs[t][q];
                }
                T *row = c + (i + r) * ldc + j;
                for (ptrdiff_t q = 0; q < cols; q++) row[q] = accumulate ? row[q] + sums[q] : sums[q];
            }
        }
    }
}

ptrdiff_t NAME(rnn_panel_elements)(ptrdiff_t k, ptrdiff_t n) { return (n + NR - 1) / NR * NR * k; }

void NAME(rnn_pack_panels)(const T *b, ptrdiff_t k, ptrdiff_t n, int transposed, T *dst) {
    ptrdiff_t nPad = (n + NR - 1) / NR * NR;
    // B as [k, n]: element (p, j) at b[p·brs + j·bcs]; packed as its transpose.
    ptrdiff_t brs = transposed ? 1 : n, bcs = transposed ? k : 1;
    for (ptrdiff_t pc = 0; pc < k; ) {
        ptrdiff_t kcur = rnn_min(KC, k - pc);
        NAME(pack)(b + pc * brs, bcs, brs, n, kcur, NR, dst + pc * nPad);
        pc += kcur;
    }
}

/// c[0 ..< cols] (+)= a · panel over kc for a single row a: four depth steps at a time into separate
/// accumulators, so that the fused multiply-adds do not wait on each other (the 6-row micro-kernel would
/// do 6 times the arithmetic for one row). Summed as (s + t) + (u + v) at the end.
RNN_INLINE void NAME(row_kernel)(ptrdiff_t kc, const T *a, const T *b, T *c, ptrdiff_t cols, int load,
                                 const T *init) {
    V s0 = {0}, s1 = {0}, t0 = {0}, t1 = {0}, u0 = {0}, u1 = {0}, v0 = {0}, v1 = {0};
    ptrdiff_t p = 0;
#if RNN_GEMM_ASM
    if (kc >= 4) {
        ptrdiff_t groups = kc / 4;
        const T *pa = a, *q = b;
        __asm__ volatile(
            "1:\n\t"
            ASM_BCAST " 0*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " 0(%[q]), %%ymm14, %[s0]\n\t" ASM_FMA " 32(%[q]), %%ymm14, %[s1]\n\t"
            ASM_BCAST " 1*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " 64(%[q]), %%ymm14, %[t0]\n\t" ASM_FMA " 96(%[q]), %%ymm14, %[t1]\n\t"
            ASM_BCAST " 2*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " 128(%[q]), %%ymm14, %[u0]\n\t" ASM_FMA " 160(%[q]), %%ymm14, %[u1]\n\t"
            ASM_BCAST " 3*" ASM_ES "(%[pa]), %%ymm14\n\t"
            ASM_FMA " 192(%[q]), %%ymm14, %[v0]\n\t" ASM_FMA " 224(%[q]), %%ymm14, %[v1]\n\t"
            "add $4*" ASM_ES ", %[pa]\n\t"
            "add $256, %[q]\n\t"
            "dec %[groups]\n\t"
            "jnz 1b\n\t"
            : [s0] "+x"(s0), [s1] "+x"(s1), [t0] "+x"(t0), [t1] "+x"(t1), [u0] "+x"(u0), [u1] "+x"(u1),
              [v0] "+x"(v0), [v1] "+x"(v1), [pa] "+r"(pa), [q] "+r"(q), [groups] "+r"(groups)
            :
            : "xmm14", "cc", "memory");
        p = kc / 4 * 4;
    }
#else
    for (; p + 4 <= kc; p += 4) {
        const T *q = b + p * NR;
        V x = SPLAT(a[p]);
        s0 = FMA(x, NAME(load)(q), s0); s1 = FMA(x, NAME(load)(q + W), s1);
        x = SPLAT(a[p + 1]);
        t0 = FMA(x, NAME(load)(q + NR), t0); t1 = FMA(x, NAME(load)(q + NR + W), t1);
        x = SPLAT(a[p + 2]);
        u0 = FMA(x, NAME(load)(q + 2 * NR), u0); u1 = FMA(x, NAME(load)(q + 2 * NR + W), u1);
        x = SPLAT(a[p + 3]);
        v0 = FMA(x, NAME(load)(q + 3 * NR), v0); v1 = FMA(x, NAME(load)(q + 3 * NR + W), v1);
    }
#endif
    for (; p < kc; p++) {
        V x = SPLAT(a[p]);
        s0 = FMA(x, NAME(load)(b + p * NR), s0); s1 = FMA(x, NAME(load)(b + p * NR + W), s1);
    }
    V r0 = (s0 + t0) + (u0 + v0), r1 = (s1 + t1) + (u1 + v1);
    if (cols == NR) {
        if (init) {
            NAME(store)(c, NAME(load)(init) + r0);
            NAME(store)(c + W, NAME(load)(init + W) + r1);
        } else if (load) {
            NAME(store)(c, NAME(load)(c) + r0);
            NAME(store)(c + W, NAME(load)(c + W) + r1);
        } else {
            NAME(store)(c, r0);
            NAME(store)(c + W, r1);
        }
    } else {
        for (ptrdiff_t j = 0; j < cols; j++) {
            T v = j < W ? r0[j] : r1[j - W];
            c[j] = init ? init[j] + v : load ? c[j] + v : v;
        }
    }
}

void NAME(rnn_prepacked_blocked)(const T *a, ptrdiff_t ars, ptrdiff_t acs, const T *panels, T *c, ptrdiff_t ldc,
                                 ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t q0, ptrdiff_t q1, int accumulate,
                                 const T *rowInit) {
    if (m <= 0 || n <= 0 || k <= 0 || q0 >= q1) return;
    ptrdiff_t nPad = (n + NR - 1) / NR * NR;
    if (m == 1) {
        // One row of A is contiguous whether or not A is transposed: no packing.
        for (ptrdiff_t pc = 0; pc < k; ) {
            ptrdiff_t kcur = rnn_min(KC, k - pc);
            const T *block = panels + pc * nPad;
            const T *init = pc == 0 && rowInit ? rowInit : NULL;
            for (ptrdiff_t q = q0; q < q1; q++) {
                NAME(row_kernel)(kcur, a + pc * acs, block + q * NR * kcur, c + q * NR,
                                 rnn_min(NR, n - q * NR), !init && (accumulate || pc > 0), init ? init + q * NR : NULL);
            }
            pc += kcur;
        }
        return;
    }
#if defined(__x86_64__)
    // Rows in 8-row panels for the AVX-512 tiles where the CPU has them (GemmWide.c; the same bits).
    if (m % 8 == 0 && rnn_simd_wide()) {
        NAME(rnn_prepacked_blocked_wide)(a, ars, acs, panels, c, ldc, m, n, k, q0, q1, accumulate, rowInit);
        return;
    }
#endif
    ptrdiff_t kcMax = rnn_min(KC, k);
    ptrdiff_t mcMax = rnn_min(MC, (m + MR - 1) / MR * MR);
    T *packedA = rnn_aligned_alloc((size_t)(mcMax * kcMax) * sizeof(T));
    T *scratch = rnn_aligned_alloc((size_t)(MR * NR) * sizeof(T));
    ptrdiff_t panelsPerBlock = rnn_max(1, NC / NR);

    for (ptrdiff_t jq = q0; jq < q1; ) {
        ptrdiff_t jqEnd = rnn_min(q1, jq + panelsPerBlock);
        for (ptrdiff_t pc = 0; pc < k; ) {
            ptrdiff_t kcur = rnn_min(KC, k - pc);
            const T *block = panels + pc * nPad;
            const T *init = pc == 0 && rowInit ? rowInit : NULL;
            int load = !init && (accumulate || pc > 0);
            for (ptrdiff_t ic = 0; ic < m; ) {
                ptrdiff_t mcur = rnn_min(MC, m - ic);
                NAME(pack_rows)(a + ic * ars + pc * acs, ars, acs, mcur, kcur, packedA);
                for (ptrdiff_t q = jq; q < jqEnd; q++) {
                    ptrdiff_t jr = q * NR;
                    ptrdiff_t cols = rnn_min(NR, n - jr);
                    const T *pb = block + q * NR * kcur;
                    NAME(panel_tiles)(kcur, packedA, mcur, pb, NR, c + ic * ldc + jr, ldc, cols, load,
                                      init ? init + jr : NULL, scratch);
                }
                ic += mcur;
            }
            pc += kcur;
        }
        jq = jqEnd;
    }
    free(packedA); free(scratch);
}

ptrdiff_t NAME(rnn_panel_width)(void) { return NR; }

#undef NR
#undef MR
#undef DIRECT_MAX_ROWS
