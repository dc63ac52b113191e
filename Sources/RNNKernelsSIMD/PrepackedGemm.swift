// Matrix products with B packed once, for many products with the same B and different A (the recurrent
// weights of a sequence: h_{t-1} · Rᵀ forward, dA_t · R backward, at every step).
//
// Same target as PackedGemm.swift, so the same rule: compiled for AVX2 + FMA on x86-64, called only after
// RNNKernels has checked the CPU.
//
// Shapes: A [M, K], B [K, N], C [M, N], row-major; a transposed argument is laid out [K, M] / [N, K].
//
// Panel layout: K is cut into depth blocks of kc (the last one shorter); depth block [p0, p0 + kcur) starts
// at element p0 · nPad (nPad = N rounded up to a whole panel of nr columns) and holds ⌈N / nr⌉ panels of
// kcur × nr elements, panel q holding, for each p, B[p0 + p, q·nr ..< q·nr + nr] (zero past column N).
// It is exactly what `gemmBlocked` packs per block, laid out for the whole of B.

import Dispatch

/// Columns of one panel: two SIMD vectors.
@inline(__always) func panelWidth<S: PackedScalar>(_: S.Type) -> Int { 2 * S.Vector.scalarCount }

/// Elements of the panels of a [k, n] operand.
func panelElements<S: PackedScalar>(_ s: S.Type, k: Int, n: Int) -> Int {
    let nr = panelWidth(s)
    return (n + nr - 1) / nr * nr * k
}

/// Packs B ([k, n], or [n, k] when `transposed`) into panels at `dst`.
func fillPanels<S: PackedScalar>(_ b: UnsafePointer<S>, k: Int, n: Int, transposed: Bool,
                                 into dst: UnsafeMutablePointer<S>) {
    let nr = panelWidth(S.self)
    let nPad = (n + nr - 1) / nr * nr
    let vb = transposed ? View(base: b, rs: 1, cs: k) : View(base: b, rs: n, cs: 1)
    var pc = 0
    while pc < k {
        let kcur = min(S.kc, k - pc)
        pack(vb.offset(rows: pc, cols: 0).transposed, rows: n, kc: kcur, width: nr, into: dst + pc * nPad)
        pc += kcur
    }
}

/// c[0..<cols] (+)= a · panel over kc for a single row a: four depth steps at a time into separate
/// accumulators, so that the fused multiply-adds do not wait on each other (the 6-row micro-kernel would
/// do 6 times the arithmetic for one row).
@inline(__always)
func rowKernel<S: PackedScalar>(kc: Int, a: UnsafePointer<S>, b: UnsafePointer<S>, c: UnsafeMutablePointer<S>,
                                cols: Int, load: Bool) {
    typealias V = S.Vector
    let w = V.scalarCount, nr = 2 * w
    var s0 = V(), s1 = V(), t0 = V(), t1 = V(), u0 = V(), u1 = V(), v0 = V(), v1 = V()
    let pb = UnsafeRawPointer(b), bytes = MemoryLayout<S>.stride
    @inline(__always) func at(_ p: Int, _ half: Int) -> V { pb.loadUnaligned(fromByteOffset: (p * nr + half * w) * bytes, as: V.self) }
    var p = 0
    while p + 4 <= kc {
        var x = V(repeating: a[p])
        s0 = s0.addingProduct(x, at(p, 0)); s1 = s1.addingProduct(x, at(p, 1))
        x = V(repeating: a[p + 1])
        t0 = t0.addingProduct(x, at(p + 1, 0)); t1 = t1.addingProduct(x, at(p + 1, 1))
        x = V(repeating: a[p + 2])
        u0 = u0.addingProduct(x, at(p + 2, 0)); u1 = u1.addingProduct(x, at(p + 2, 1))
        x = V(repeating: a[p + 3])
        v0 = v0.addingProduct(x, at(p + 3, 0)); v1 = v1.addingProduct(x, at(p + 3, 1))
        p += 4
    }
    while p < kc {
        let x = V(repeating: a[p])
        s0 = s0.addingProduct(x, at(p, 0)); s1 = s1.addingProduct(x, at(p, 1))
        p += 1
    }
    let r0 = (s0 + t0) + (u0 + v0), r1 = (s1 + t1) + (u1 + v1)
    if cols == nr {
        let out = UnsafeMutableRawPointer(c)
        if load {
            out.storeBytes(of: out.loadUnaligned(as: V.self) + r0, as: V.self)
            out.storeBytes(of: out.loadUnaligned(fromByteOffset: w * bytes, as: V.self) + r1, toByteOffset: w * bytes, as: V.self)
        } else {
            out.storeBytes(of: r0, as: V.self)
            out.storeBytes(of: r1, toByteOffset: w * bytes, as: V.self)
        }
    } else {
        for j in 0..<cols {
            let v = j < w ? r0[j] : r1[j - w]
            c[j] = load ? c[j] + v : v
        }
    }
}

/// C[rows of A, panels q0..<q1] (+)= A · B for one thread: A m × k, B as panels.
func prepackedBlocked<S: PackedScalar>(_ a: View<S>, _ panels: UnsafePointer<S>, _ c: Output<S>,
                                       m: Int, n: Int, k: Int, panelRange: Range<Int>, accumulate: Bool) {
    let nr = panelWidth(S.self)
    let nPad = (n + nr - 1) / nr * nr
    if m == 1 {
        // One row of A is contiguous whether or not A is transposed: no packing.
        var pc = 0
        while pc < k {
            let kcur = min(S.kc, k - pc)
            let block = panels + pc * nPad
            for q in panelRange {
                rowKernel(kc: kcur, a: a.base + pc * a.cs, b: block + q * nr * kcur, c: c.base + q * nr,
                          cols: min(nr, n - q * nr), load: accumulate || pc > 0)
            }
            pc += kcur
        }
        return
    }
    let kcMax = min(S.kc, k)
    let mcMax = min(S.mc, (m + mr - 1) / mr * mr)
    let bytes = MemoryLayout<S>.stride
    let packedA = UnsafeMutableRawPointer.allocate(byteCount: mcMax * kcMax * bytes, alignment: 64)
        .bindMemory(to: S.self, capacity: mcMax * kcMax)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: mr * nr * bytes, alignment: 64)
        .bindMemory(to: S.self, capacity: mr * nr)
    defer { packedA.deallocate(); scratch.deallocate() }
    let panelsPerBlock = max(1, S.nc / nr)

    var jq = panelRange.lowerBound
    while jq < panelRange.upperBound {
        let jqEnd = min(panelRange.upperBound, jq + panelsPerBlock)
        var pc = 0
        while pc < k {
            let kcur = min(S.kc, k - pc)
            let block = panels + pc * nPad
            let load = accumulate || pc > 0
            var ic = 0
            while ic < m {
                let mcur = min(S.mc, m - ic)
                pack(a.offset(rows: ic, cols: pc), rows: mcur, kc: kcur, width: mr, into: packedA)
                for q in jq..<jqEnd {
                    let jr = q * nr
                    let cols = min(nr, n - jr)
                    let pb = UnsafePointer(block + q * nr * kcur)
                    var ir = 0
                    while ir < mcur {
                        microKernel(kc: kcur, a: UnsafePointer(packedA + ir * kcur), b: pb, ldb: nr,
                                    c: c.offset(rows: ic + ir, cols: jr),
                                    rows: min(mr, mcur - ir), cols: cols, load: load, scratch: scratch)
                        ir += mr
                    }
                }
                ic += mcur
            }
            pc += kcur
        }
        jq = jqEnd
    }
}

/// Splits the panels of B between `threads` threads (by rows of A when there are fewer panels than
/// threads) and runs the product on each part.
func prepackedDriver<S: PackedScalar>(_ a: UnsafePointer<S>, _ panels: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>,
                                      m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        return
    }
    let nr = panelWidth(S.self)
    let count = (n + nr - 1) / nr
    let va = transposeA ? View(base: a, rs: 1, cs: m) : View(base: a, rs: k, cs: 1)
    let vc = Output(base: c, ldc: n)
    let pb = View(base: panels, rs: 0, cs: 0)  // Sendable carrier
    let parts = max(1, threads)
    if parts == 1 {
        prepackedBlocked(va, panels, vc, m: m, n: n, k: k, panelRange: 0..<count, accumulate: accumulate)
        return
    }
    let byColumns = count >= parts || m < parts * mr
    let length = byColumns ? count : m
    let unit = byColumns ? 1 : mr
    let chunk = ((length + parts - 1) / parts + unit - 1) / unit * unit
    DispatchQueue.concurrentPerform(iterations: parts) { t in
        let start = t * chunk, end = min(length, start + chunk)
        if start >= end { return }
        if byColumns {
            prepackedBlocked(va, pb.base, vc, m: m, n: n, k: k, panelRange: start..<end, accumulate: accumulate)
        } else {
            prepackedBlocked(va.offset(rows: start, cols: 0), pb.base, vc.offset(rows: start, cols: 0),
                             m: end - start, n: n, k: k, panelRange: 0..<count, accumulate: accumulate)
        }
    }
}

/// Elements of the panels `packPanels` writes for a [k, n] Float operand.
public func packedPanelElements(_: Float.Type, k: Int, n: Int) -> Int { panelElements(Float.self, k: k, n: n) }

/// Elements of the panels `packPanels` writes for a [k, n] Double operand.
public func packedPanelElements(_: Double.Type, k: Int, n: Int) -> Int { panelElements(Double.self, k: k, n: n) }

/// Packs B ([k, n], or [n, k] when `transposed`) into `packedPanelElements(Float.self, ...)` Floats
/// at `dst`. On x86-64, call only when the CPU has AVX2 and FMA.
public func packPanels(_ b: UnsafePointer<Float>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Float>) {
    fillPanels(b, k: k, n: n, transposed: transposed, into: dst)
}

/// Packs B ([k, n], or [n, k] when `transposed`) into `packedPanelElements(Double.self, ...)` Doubles
/// at `dst`. On x86-64, call only when the CPU has AVX2 and FMA.
public func packPanels(_ b: UnsafePointer<Double>, k: Int, n: Int, transposed: Bool, into dst: UnsafeMutablePointer<Double>) {
    fillPanels(b, k: k, n: n, transposed: transposed, into: dst)
}

/// C = op(A) · B (+ C when `accumulate`) in Float with B already in panels (`packPanels`), on `threads`
/// threads. On x86-64, call only when the CPU has AVX2 and FMA.
public func prepackedGemm(_ a: UnsafePointer<Float>, _ panels: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                          m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int) {
    prepackedDriver(a, panels, c, m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: threads)
}

/// C = op(A) · B (+ C when `accumulate`) in Double with B already in panels (`packPanels`), on `threads`
/// threads. On x86-64, call only when the CPU has AVX2 and FMA.
public func prepackedGemm(_ a: UnsafePointer<Double>, _ panels: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                          m: Int, n: Int, k: Int, transposeA: Bool, accumulate: Bool, threads: Int) {
    prepackedDriver(a, panels, c, m: m, n: n, k: k, transposeA: transposeA, accumulate: accumulate, threads: threads)
}
