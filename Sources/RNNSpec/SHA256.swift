import RNNSpecDigest

/// SHA-256 (FIPS 180-4), for case digests. Small and dependency-free (the hardware rounds are
/// `RNNSpecDigest`'s, in this package); not constant-time, which a digest of public case data does
/// not need.
struct SHA256 {
    /// The 64 round constants, from `RNNSpecDigest` (one table for both implementations).
    private static let k = Array(UnsafeBufferPointer(start: rnn_sha256_constants(), count: 64))

    /// Whether this CPU runs SHA-256's rounds in hardware (x86's SHA extensions): `RNNSpecDigest`'s
    /// compression then replaces the loop below (a tenth of the instructions; the digest of a small
    /// case's inputs was 5% of loading it).
    static let hardware = rnn_sha256_hardware() == 1

    /// The lower-case hex digest of the bytes.
    static func hex<S: Sequence>(_ input: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for word in words(Array(input), hardware: hardware) {
            for shift in stride(from: 28, through: 0, by: -4) { out.append(digits[Int((word >> UInt32(shift)) & 0xF)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The eight words of the digest, with the CPU's SHA instructions or in Swift (tests compare the two).
    static func words(_ bytes: [UInt8], hardware: Bool) -> [UInt32] {
        var message = bytes
        let bitLength = UInt64(message.count) * 8
        let padded = (message.count + 8) / 64 * 64 + 64
        message.reserveCapacity(padded)
        message.append(0x80)
        message.append(contentsOf: repeatElement(0, count: padded - 8 - message.count))
        for shift in stride(from: 56, through: 0, by: -8) {
            message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        var state: [UInt32] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        ]
        if hardware {
            state.withUnsafeMutableBufferPointer { s in
                message.withUnsafeBufferPointer { m in rnn_sha256_blocks(s.baseAddress!, m.baseAddress!, m.count / 64) }
            }
            return state
        }
        var h = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
        let k = Self.k
        k.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    for chunk in stride(from: 0, to: m.count, by: 64) {
                        for t in 0..<16 {
                            let b = chunk + 4 * t
                            w[t] =
                                UInt32(m[b]) << 24 | UInt32(m[b + 1]) << 16 | UInt32(m[b + 2]) << 8 | UInt32(m[b + 3])
                        }
                        for t in 16..<64 {
                            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                        }
                        var (a, b, c, d, e, f, g, hh) = h
                        for t in 0..<64 {
                            let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                            let ch = (e & f) ^ (~e & g)
                            let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                            let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                            let maj = (a & b) ^ (a & c) ^ (b & c)
                            let t2 = s0 &+ maj
                            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                        }
                        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
                    }
                }
            }
        }
        return [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7]
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}

/// The digest that ties a golden to the exact computation it records.
public enum CaseDigest {
    /// A digest per param and per input (16 hex digits of the SHA-256 of its canonical text):
    /// what a golden keeps so that a STALE result can name what changed.
    public struct Parts: Sendable, Equatable {
        /// Param name → digest.
        public var params: [String: String]
        /// Input name → digest.
        public var inputs: [String: String]
        /// Digests by name.
        public init(params: [String: String], inputs: [String: String]) {
            self.params = params
            self.inputs = inputs
        }
    }

    /// The digest of each param and each input, from the same canonical text as `compute`.
    static func parts(params: [String: ParamValue], inputs: [String: Value]) -> Parts {
        var p = Parts(params: [:], inputs: [:])
        for (name, value) in params { p.params[name] = String(SHA256.hex("param \(name) \(value)\n".utf8).prefix(16)) }
        for (name, value) in inputs {
            var text = ByteText()
            text.write("input \(name) ")
            canonical(value, into: &text)
            p.inputs[name] = String(SHA256.hex(text.bytes).prefix(16))
        }
        return p
    }

    /// SHA-256 over a canonical text of the kernel name, every parameter (defaults included)
    /// and every input (shape and values in shortest round-trip form), names sorted.
    static func compute(kernel: String, params: [String: ParamValue], inputs: [String: Value]) -> String {
        var text = ByteText()
        text.bytes.reserveCapacity(64 + 24 * inputs.values.reduce(0) { $0 + $1.elementCount })
        text.write("rnnspec-digest-1\nkernel \(kernel)\n")
        for name in params.keys.sorted() { text.write("param \(name) \(params[name]!)\n") }
        for name in inputs.keys.sorted() {
            text.write("input \(name) ")
            canonical(inputs[name]!, into: &text)
            text.write("\n")
        }
        return SHA256.hex(text.bytes)
    }

    /// The canonical text of a value, appended to `text`.
    static func canonical(_ value: Value, into text: inout String) {
        var bytes = ByteText()
        canonical(value, into: &bytes)
        text += String(decoding: bytes.bytes, as: UTF8.self)
    }

    static func canonical(_ value: Value, into text: inout ByteText) {
        switch value {
        case .real(let r):
            text.write("real")
            text.write(r.shape.shapeText)
            // Each number as `description` writes it, straight into the bytes (no string per number: the
            // digest's text was the largest part of reading a small case after its YAML).
            for v in r.tensor.scalars {
                text.bytes.append(0x20)
                if v.isFinite { v.write(to: &text) } else { text.write(NumberText.format(v)) }
            }
        case .integer(let t):
            text.write("int")
            text.write(t.shape.shapeText)
            for v in t.scalars {
                text.bytes.append(0x20)
                text.write(String(v))
            }
        case .string(let t):
            text.write("str\(t.shape.shapeText)")
            for v in t.scalars { text.write(" " + YAMLText.quoted(v)) }
        case .boolean(let t):
            text.write("bool\(t.shape.shapeText)")
            for v in t.scalars { text.write(v ? " 1" : " 0") }
        case .list(let items):
            text.write("list[\(items.count)](")
            for item in items {
                canonical(item, into: &text)
                text.write(";")
            }
            text.write(")")
        }
    }
}

/// Text kept as UTF-8 bytes. A number's `write(to:)` hands over its ASCII digits through
/// `_writeASCII`, so no string is made for it (`String`'s own appends are far slower per number).
struct ByteText: TextOutputStream {
    var bytes: [UInt8] = []

    mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }

    /// `JSONText.string(s)`, written without making it: a name of printable ASCII without a quote or a
    /// backslash (every id, kernel and tensor name rnnspec writes) goes in between quotes as it is.
    mutating func appendJSONString(_ s: String) {
        var s = s
        let plain = s.withUTF8 { u -> Bool in
            guard u.allSatisfy(YAMLText.quotesAsIs) else { return false }
            bytes.append(0x22)
            bytes.append(contentsOf: u)
            bytes.append(0x22)
            return true
        }
        if !plain { write(JSONText.string(s)) }
    }
}
