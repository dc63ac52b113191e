import RNNPlatform

// MARK: - SeedSequence

/// NumPy's `SeedSequence` (numpy/random/bit_generator.pyx), for a non-negative integer entropy
/// and no spawn key: the pool it mixes and the words `generate_state` draws from it.
public struct NumPySeedSequence: Sendable, Equatable {
    static let initA: UInt32 = 0x43b0_d7e5, multA: UInt32 = 0x931e_8875
    static let initB: UInt32 = 0x8b51_f9dd, multB: UInt32 = 0x58f3_8ded
    static let mixMultL: UInt32 = 0xca01_f9dd, mixMultR: UInt32 = 0x4973_f715
    /// The four mixed 32-bit words.
    public private(set) var pool: [UInt32]

    /// `SeedSequence(entropy)` for an integer entropy given as 32-bit words, least significant first
    /// (an entropy below 2^32 is one word; 0 is `[0]`).
    public init(entropyWords: [UInt32]) {
        var hashConst = Self.initA
        func hashmix(_ v: UInt32) -> UInt32 {
            var value = v ^ hashConst
            hashConst = hashConst &* Self.multA
            value = value &* hashConst
            value ^= value >> 16
            return value
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            var r = (Self.mixMultL &* x) &- (Self.mixMultR &* y)
            r ^= r >> 16
            return r
        }
        var mixer = [UInt32](repeating: 0, count: 4)
        for i in 0..<4 { mixer[i] = hashmix(i < entropyWords.count ? entropyWords[i] : 0) }
        for src in 0..<4 { for dst in 0..<4 where src != dst { mixer[dst] = mix(mixer[dst], hashmix(mixer[src])) } }
        if entropyWords.count > 4 {
            for src in 4..<entropyWords.count {
                for dst in 0..<4 { mixer[dst] = mix(mixer[dst], hashmix(entropyWords[src])) }
            }
        }
        pool = mixer
    }

    /// `SeedSequence(seed)` for a seed 0 ≤ seed < 2^64.
    public init(seed: UInt64) {
        let lo = UInt32(truncatingIfNeeded: seed), hi = UInt32(truncatingIfNeeded: seed >> 32)
        self.init(entropyWords: hi == 0 ? [lo] : [lo, hi])
    }

    /// `generate_state(n, np.uint32)`.
    public func generateState32(_ n: Int) -> [UInt32] {
        var hashConst = Self.initB
        var out = [UInt32]()
        out.reserveCapacity(n)
        for i in 0..<n {
            var v = pool[i % pool.count] ^ hashConst
            hashConst = hashConst &* Self.multB
            v = v &* hashConst
            v ^= v >> 16
            out.append(v)
        }
        return out
    }

    /// `generate_state(n, np.uint64)`: pairs of 32-bit words, the first the low half.
    public func generateState64(_ n: Int) -> [UInt64] {
        let w = generateState32(2 * n)
        return (0..<n).map { UInt64(w[2 * $0]) | (UInt64(w[2 * $0 + 1]) << 32) }
    }
}

// MARK: - PCG64

/// NumPy's `PCG64` bit generator: a 128-bit LCG with the XSL-RR output, and the 32-bit buffer
/// (`has_uint32`) that `next_uint32` keeps the high half of a 64-bit draw in.
public struct NumPyPCG64: Sendable, Equatable {
    static let multHi: UInt64 = 2_549_297_995_355_413_924, multLo: UInt64 = 4_865_540_595_714_422_341
    /// The 128-bit state, high and low words.
    public private(set) var stateHi: UInt64 = 0, stateLo: UInt64 = 0
    /// The 128-bit increment (odd), high and low words.
    public private(set) var incHi: UInt64 = 0, incLo: UInt64 = 0
    var hasUInt32 = false
    var uinteger: UInt32 = 0

    /// `PCG64(seed)`: state and increment from `SeedSequence(seed).generate_state(4, np.uint64)`.
    public init(seed: UInt64) {
        let s = NumPySeedSequence(seed: seed).generateState64(4)
        // pcg64_set_seed: initstate = (s[0] << 64) | s[1], initseq = (s[2] << 64) | s[3].
        let initSeqHi = s[2], initSeqLo = s[3]
        incHi = (initSeqHi << 1) | (initSeqLo >> 63)
        incLo = (initSeqLo << 1) | 1
        step()
        let (lo, c) = stateLo.addingReportingOverflow(s[1])
        stateLo = lo
        stateHi = stateHi &+ s[0] &+ (c ? 1 : 0)
        step()
    }

    @inline(__always)
    mutating func step() {
        // state = state * mult + inc (mod 2^128)
        let p = stateLo.multipliedFullWidth(by: Self.multLo)
        var hi = p.high &+ stateLo &* Self.multHi &+ stateHi &* Self.multLo
        let (lo, c) = p.low.addingReportingOverflow(incLo)
        hi = hi &+ incHi &+ (c ? 1 : 0)
        stateHi = hi
        stateLo = lo
    }

    /// `next_uint64`.
    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        step()
        let x = stateHi ^ stateLo
        let rot = UInt32(truncatingIfNeeded: stateHi >> 58)
        return (x >> UInt64(rot)) | (x << UInt64((64 &- rot) & 63))
    }

    /// `next_uint32`: the low half of a fresh 64-bit draw, then its high half.
    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if hasUInt32 {
            hasUInt32 = false
            return uinteger
        }
        let n = nextUInt64()
        hasUInt32 = true
        uinteger = UInt32(truncatingIfNeeded: n >> 32)
        return UInt32(truncatingIfNeeded: n)
    }

    /// `next_double`: the top 53 bits of a 64-bit draw over 2^53.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

// MARK: - MT19937

/// NumPy's legacy `MT19937` (randomkit), seeded by `init_genrand` as `np.random.seed(int)` does.
public struct NumPyMT19937: Sendable, Equatable {
    static let n = 624, m = 397
    var key = [UInt32](repeating: 0, count: 624)
    var pos = 624

    /// `mt19937_seed(seed)` (`init_genrand`), what `np.random.seed(s)` does for 0 ≤ s < 2^32.
    public init(seed: UInt32) {
        var s = seed
        for i in 0..<Self.n {
            key[i] = s
            s = 1_812_433_253 &* (s ^ (s >> 30)) &+ UInt32(i + 1)
        }
        pos = Self.n
    }

    /// `init_by_array(key)`, what `np.random.seed([k0, k1, ...])` does for a sequence of words.
    public init(keyArray: [UInt32]) {
        self.init(seed: 19_650_218)
        var i = 1, j = 0
        let n = Self.n
        for _ in 0..<Swift.max(n, keyArray.count) {
            key[i] = (key[i] ^ ((key[i - 1] ^ (key[i - 1] >> 30)) &* 1_664_525)) &+ keyArray[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= n { key[0] = key[n - 1]; i = 1 }
            if j >= keyArray.count { j = 0 }
        }
        for _ in 0..<(n - 1) {
            key[i] = (key[i] ^ ((key[i - 1] ^ (key[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= n { key[0] = key[n - 1]; i = 1 }
        }
        key[0] = 0x8000_0000
        pos = n
    }

    mutating func generate() {
        let n = Self.n, m = Self.m
        let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7fff_ffff, matrixA: UInt32 = 0x9908_b0df
        for i in 0..<n {
            let y = (key[i] & upper) | (key[(i + 1) % n] & lower)
            key[i] = key[(i + m) % n] ^ (y >> 1) ^ ((y & 1) != 0 ? matrixA : 0)
        }
        pos = 0
    }

    /// `mt19937_next32`.
    @inline(__always)
    public mutating func nextUInt32() -> UInt32 {
        if pos == Self.n { generate() }
        var y = key[pos]
        pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `mt19937_next64`: two 32-bit draws, the first the high half.
    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        let hi = UInt64(nextUInt32())
        return (hi << 32) | UInt64(nextUInt32())
    }

    /// `mt19937_next_double`: (a·2^26 + b) / 2^53 with a = 27 and b = 26 bits of two draws.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        let a = Int32(nextUInt32() >> 5), b = Int32(nextUInt32() >> 6)
        return (Double(a) * 67_108_864.0 + Double(b)) / 9_007_199_254_740_992.0
    }
}
