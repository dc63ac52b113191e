// Packed, register-blocked matrix product in 256-bit SIMD vectors (SIMD8<Float>, SIMD4<Double>).
//
// On x86-64 this target is compiled with `-target-cpu haswell` (see Package.swift): every function here may
// use AVX2/FMA instructions, so nothing here may run on a CPU without them. RNNKernels calls the public
// entry points only after checking the CPU (`packedGemmAvailable` there). The entry points are not
// @inlinable, so none of this code is inlined into modules compiled for the baseline target. On arm64 the
// same code compiles to NEON, which always has fused multiply-add.
//
// Shapes: A [M, K], B [K, N], C [M, N], row-major; a transposed argument is laid out [K, M] / [N, K].
//
// Scheme (Goto / BLIS): for each column block of C (nc wide) and depth block (kc deep), B's block is packed
// into panels nr wide; for each row block (mc high) A's block is packed into panels mr high; a micro-kernel
// then computes each mr × nr tile of C with mr · nr/width SIMD accumulators held in registers. Transposes
// are handled by the packing; edge tiles by zero-padding the packed panels.

import Dispatch

/// A scalar with the SIMD vector the micro-kernel works in: 8 Floats or 4 Doubles (one 256-bit register).
protocol PackedScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable {
    associatedtype Vector: SIMD where Vector.Scalar == Self
    /// Depth of a packed block (elements of K): a kc × nr panel of B stays in L1.
    static var kc: Int { get }
    /// Rows of A packed at once: the mc × kc block stays in L2.
    static var mc: Int { get }
    /// Columns of B packed at once: the kc × nc block stays in L3.
    static var nc: Int { get }
}

extension Float: PackedScalar {
    typealias Vector = SIMD8<Float>
    static var kc: Int { 256 }
    static var mc: Int { 144 }
    static var nc: Int { 4096 }
}

extension Double: PackedScalar {
    typealias Vector = SIMD4<Double>
    static var kc: Int { 256 }
    static var mc: Int { 72 }
    static var nc: Int { 2048 }
}

/// Rows of a micro-tile. With two vectors per row this is 12 accumulators + 2 B vectors + 1 broadcast
/// = 15 of the 16 ymm registers.
let mr = 6

/// A strided read-only matrix: element (i, j) is at base[i * rs + j * cs].
struct View<S>: @unchecked Sendable {
    var base: UnsafePointer<S>
    var rs: Int
    var cs: Int
    @inline(__always) func offset(rows i: Int, cols j: Int) -> View { View(base: base + i * rs + j * cs, rs: rs, cs: cs) }
}

/// The output: row-major with leading dimension ldc.
struct Output<S>: @unchecked Sendable {
    var base: UnsafeMutablePointer<S>
    var ldc: Int
    @inline(__always) func offset(rows i: Int, cols j: Int) -> Output { Output(base: base + i * ldc + j, ldc: ldc) }
}

/// Packs rows [0, rows) × columns [0, kc) of `x` into panels `width` rows high: panel q holds, for each
/// p, the values x[q·width + r, p] (r < width) contiguously; rows past `rows` are zero. A is packed as
/// itself (width mr); B as its transpose (width nr), so that a panel holds, for each p, B[p, j..<j + nr].
@inline(__always)
func pack<S: PackedScalar>(_ x: View<S>, rows: Int, kc: Int, width: Int, into dst: UnsafeMutablePointer<S>) {
    var d = dst
    var i = 0
    while i < rows {
        let h = min(width, rows - i)
        if h == width && x.rs == 1 {
            // The panel's rows are contiguous in memory: copy width values per p.
            for p in 0..<kc { (d + p * width).update(from: x.base + i + p * x.cs, count: width) }
        } else {
            for r in 0..<width {
                if r < h {
                    let src = x.base + (i + r) * x.rs
                    for p in 0..<kc { d[p * width + r] = src[p * x.cs] }
                } else {
                    for p in 0..<kc { d[p * width + r] = 0 }
                }
            }
        }
        d += width * kc
        i += width
    }
}

/// B [k, n] seen as its transpose [n, k], for packing.
extension View {
    @inline(__always) var transposed: View { View(base: base, rs: cs, cs: rs) }
}

/// One mr × nr tile: C[0..<rows, 0..<cols] (+)= Apanel · Bpanel over kc, with nr = 2 vectors; row p of
/// the B panel starts at b + p · ldb (nr when packed, the row stride of B when read in place).
/// `load`: add to what C holds (accumulate, or a later depth block); otherwise overwrite.
@inline(__always)
func microKernel<S: PackedScalar>(kc: Int, a: UnsafePointer<S>, b: UnsafePointer<S>, ldb: Int, c: Output<S>,
                                  rows: Int, cols: Int, load: Bool, scratch: UnsafeMutablePointer<S>) {
    typealias V = S.Vector
    let w = V.scalarCount
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
    var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
    var pa = a, pb = UnsafeRawPointer(b)
    let stride = 2 * w * MemoryLayout<S>.stride, step = ldb * MemoryLayout<S>.stride
    for _ in 0..<kc {
        let b0 = pb.loadUnaligned(as: V.self)
        let b1 = pb.loadUnaligned(fromByteOffset: stride / 2, as: V.self)
        var x = V(repeating: pa[0])
        c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
        x = V(repeating: pa[1])
        c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
        x = V(repeating: pa[2])
        c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
        x = V(repeating: pa[3])
        c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
        x = V(repeating: pa[4])
        c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
        x = V(repeating: pa[5])
        c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        pa += mr
        pb += step
    }
    let full = rows == mr && cols == 2 * w
    // Full tiles go straight to C; edge tiles through the scratch tile.
    let out = full ? c.base : scratch
    let ld = full ? c.ldc : 2 * w
    let loadHere = full && load
    @inline(__always) func put(_ r: Int, _ v0: V, _ v1: V) {
        let row = UnsafeMutableRawPointer(out + r * ld)
        if loadHere {
            row.storeBytes(of: row.loadUnaligned(as: V.self) + v0, as: V.self)
            row.storeBytes(of: row.loadUnaligned(fromByteOffset: stride / 2, as: V.self) + v1,
                           toByteOffset: stride / 2, as: V.self)
        } else {
            row.storeBytes(of: v0, as: V.self)
            row.storeBytes(of: v1, toByteOffset: stride / 2, as: V.self)
        }
    }
    put(0, c00, c01); put(1, c10, c11); put(2, c20, c21)
    put(3, c30, c31); put(4, c40, c41); put(5, c50, c51)
    if !full {
        for r in 0..<rows {
            let dst = c.base + r * c.ldc, src = scratch + r * 2 * w
            if load { for j in 0..<cols { dst[j] += src[j] } } else { for j in 0..<cols { dst[j] = src[j] } }
        }
    }
}

/// C (+)= A · B for one thread's part: A m × k, B k × n.
func gemmBlocked<S: PackedScalar>(_ a: View<S>, _ b: View<S>, _ c: Output<S>, m: Int, n: Int, k: Int, accumulate: Bool) {
    let nr = 2 * S.Vector.scalarCount
    let kcMax = min(S.kc, k)
    let mcMax = min(S.mc, (m + mr - 1) / mr * mr)
    let ncMax = min(S.nc, (n + nr - 1) / nr * nr)
    let align = 64
    let bytes = MemoryLayout<S>.stride
    let packedA = UnsafeMutableRawPointer.allocate(byteCount: mcMax * kcMax * bytes, alignment: align)
        .bindMemory(to: S.self, capacity: mcMax * kcMax)
    let packedB = UnsafeMutableRawPointer.allocate(byteCount: ncMax * kcMax * bytes, alignment: align)
        .bindMemory(to: S.self, capacity: ncMax * kcMax)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: mr * nr * bytes, alignment: align)
        .bindMemory(to: S.self, capacity: mr * nr)
    defer { packedA.deallocate(); packedB.deallocate(); scratch.deallocate() }
    // With few rows, B (row-major) is read in place: packing it would cost about as much as the product.
    let direct = b.cs == 1 && m <= directMaxRows

    var jc = 0
    while jc < n {
        let ncur = min(S.nc, n - jc)
        var pc = 0
        while pc < k {
            let kcur = min(S.kc, k - pc)
            if !direct { pack(b.offset(rows: pc, cols: jc).transposed, rows: ncur, kc: kcur, width: nr, into: packedB) }
            let load = accumulate || pc > 0
            var ic = 0
            while ic < m {
                let mcur = min(S.mc, m - ic)
                pack(a.offset(rows: ic, cols: pc), rows: mcur, kc: kcur, width: mr, into: packedA)
                var jr = 0
                while jr < ncur {
                    let cols = min(nr, ncur - jr)
                    var pb = UnsafePointer(packedB + jr * kcur), ldb = nr
                    if direct {
                        if cols == nr {
                            pb = b.base + pc * b.rs + jc + jr; ldb = b.rs
                        } else if ic == 0 {
                            pack(b.offset(rows: pc, cols: jc + jr).transposed, rows: cols, kc: kcur, width: nr,
                                 into: packedB + jr * kcur)
                        }
                    }
                    var ir = 0
                    while ir < mcur {
                        microKernel(kc: kcur, a: UnsafePointer(packedA + ir * kcur), b: pb, ldb: ldb,
                                    c: c.offset(rows: ic + ir, cols: jc + jr),
                                    rows: min(mr, mcur - ir), cols: cols, load: load, scratch: scratch)
                        ir += mr
                    }
                    jr += nr
                }
                ic += mcur
            }
            pc += kcur
        }
        jc += ncur
    }
}

/// Up to this many rows of A, A · B reads B in place instead of packing it (faster at 16 and 32 rows,
/// slower from 64).
let directMaxRows = 40

/// Up to this many rows of A, A · Bᵀ runs the dot-product kernel, which packs nothing: for few rows,
/// packing B would cost more than it saves (on [m, 384] · [1024, 384]ᵀ the crossover is near 96 rows).
public let dotProductMaxRows = 96

/// Rows of A and of B (the [N, K] argument) in one tile of the dot-product kernel: 2 × 4 accumulators
/// (with the 4 + 1 loaded vectors, 13 of the 16 registers: 3 × 4 would spill).
let dotRows = 2, dotCols = 4

/// C[i, j] (+)= Σ_p A[i, p] · B[j, p] for A [m, k] and B [n, k] both row-major (A · Bᵀ), without packing:
/// each 2 × 4 tile of C is 8 dot products of contiguous rows, one SIMD accumulator each, summed across
/// lanes at the end. For few rows of A this beats packing B, which would cost as much as the product.
/// Rows and columns past the edge repeat the last one and are not stored.
func gemmDot<S: PackedScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: Output<S>,
                              m: Int, n: Int, k: Int, lda: Int, ldb: Int, accumulate: Bool) {
    typealias V = S.Vector
    let w = V.scalarCount
    let kv = k / w * w
    var j = 0
    while j < n {
        let b0 = b + j * ldb, b1 = b + min(j + 1, n - 1) * ldb
        let b2 = b + min(j + 2, n - 1) * ldb, b3 = b + min(j + 3, n - 1) * ldb
        let cols = min(dotCols, n - j)
        var i = 0
        while i < m {
            let a0 = a + i * lda, a1 = a + min(i + 1, m - 1) * lda
            var s00 = V(), s01 = V(), s02 = V(), s03 = V()
            var s10 = V(), s11 = V(), s12 = V(), s13 = V()
            var p = 0
            while p < kv {
                let y0 = UnsafeRawPointer(b0 + p).loadUnaligned(as: V.self)
                let y1 = UnsafeRawPointer(b1 + p).loadUnaligned(as: V.self)
                let y2 = UnsafeRawPointer(b2 + p).loadUnaligned(as: V.self)
                let y3 = UnsafeRawPointer(b3 + p).loadUnaligned(as: V.self)
                var x = UnsafeRawPointer(a0 + p).loadUnaligned(as: V.self)
                s00 = s00.addingProduct(x, y0); s01 = s01.addingProduct(x, y1)
                s02 = s02.addingProduct(x, y2); s03 = s03.addingProduct(x, y3)
                x = UnsafeRawPointer(a1 + p).loadUnaligned(as: V.self)
                s10 = s10.addingProduct(x, y0); s11 = s11.addingProduct(x, y1)
                s12 = s12.addingProduct(x, y2); s13 = s13.addingProduct(x, y3)
                p += w
            }
            @inline(__always) func put(_ r: Int, _ ar: UnsafePointer<S>, _ t0: V, _ t1: V, _ t2: V, _ t3: V) {
                if i + r >= m { return }
                var sums = SIMD4<S>(t0.sum(), t1.sum(), t2.sum(), t3.sum())
                for q in kv..<k { sums += SIMD4(repeating: ar[q]) * SIMD4(b0[q], b1[q], b2[q], b3[q]) }
                let row = c.base + (i + r) * c.ldc + j
                if cols == dotCols {
                    let out = UnsafeMutableRawPointer(row)
                    out.storeBytes(of: accumulate ? out.loadUnaligned(as: SIMD4<S>.self) + sums : sums, as: SIMD4<S>.self)
                } else {
                    for q in 0..<cols { row[q] = accumulate ? row[q] + sums[q] : sums[q] }
                }
            }
            put(0, a0, s00, s01, s02, s03)
            put(1, a1, s10, s11, s12, s13)
            i += dotRows
        }
        j += dotCols
    }
}

/// Splits C between `threads` threads (by columns when there are enough, else by rows) and runs the
/// blocked product on each part.
func gemmDriver<S: PackedScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>,
                                 m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                                 accumulate: Bool, threads: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        return
    }
    if transposeB && !transposeA && m <= dotProductMaxRows {
        let vc = Output(base: c, ldc: n)
        let parts = n >= 2 * dotCols * max(1, threads) ? max(1, threads) : 1
        let chunk = ((n + parts - 1) / parts + dotCols - 1) / dotCols * dotCols
        let pa = View(base: a, rs: k, cs: 1), pb = View(base: b, rs: k, cs: 1)  // Sendable carriers
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            let start = t * chunk, end = min(n, start + chunk)
            if start < end {
                gemmDot(pa.base, pb.base + start * k, vc.offset(rows: 0, cols: start),
                        m: m, n: end - start, k: k, lda: k, ldb: k, accumulate: accumulate)
            }
        }
        return
    }
    let va = transposeA ? View(base: a, rs: 1, cs: m) : View(base: a, rs: k, cs: 1)
    let vb = transposeB ? View(base: b, rs: 1, cs: k) : View(base: b, rs: n, cs: 1)
    let vc = Output(base: c, ldc: n)
    let nr = 2 * S.Vector.scalarCount
    let parts = max(1, threads)
    if parts == 1 {
        gemmBlocked(va, vb, vc, m: m, n: n, k: k, accumulate: accumulate)
        return
    }
    // Split the longer side in whole tiles.
    let byColumns = n >= m || m < parts * mr
    let unit = byColumns ? nr : mr
    let length = byColumns ? n : m
    let chunk = ((length + parts - 1) / parts + unit - 1) / unit * unit
    DispatchQueue.concurrentPerform(iterations: parts) { t in
        let start = t * chunk
        let end = min(length, start + chunk)
        if start >= end { return }
        if byColumns {
            gemmBlocked(va, vb.offset(rows: 0, cols: start), vc.offset(rows: 0, cols: start),
                        m: m, n: end - start, k: k, accumulate: accumulate)
        } else {
            gemmBlocked(va.offset(rows: start, cols: 0), vb, vc.offset(rows: start, cols: 0),
                        m: end - start, n: n, k: k, accumulate: accumulate)
        }
    }
}

/// C = op(A) · op(B) (+ C when `accumulate`) in Float (AVX2/FMA on x86-64), on `threads` threads.
/// On x86-64, call only when the CPU has AVX2 and FMA.
public func packedGemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int) {
    gemmDriver(a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
               accumulate: accumulate, threads: threads)
}

/// C = op(A) · op(B) (+ C when `accumulate`) in Double (AVX2/FMA on x86-64), on `threads` threads.
/// On x86-64, call only when the CPU has AVX2 and FMA.
public func packedGemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                     m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, threads: Int) {
    gemmDriver(a, b, c, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
               accumulate: accumulate, threads: threads)
}
