import Foundation
import RNNKernels

/// A direct reader for the common worker-protocol lines: a request (with its gradcheck, if any) and a
/// reply with outputs (and gradients), as rnnspec writes them (and as most backends do, whitespace and key
/// order free). It builds the same `ExecutionRequest` and `Answer` as the general reader, without
/// Foundation's JSON objects and casts (which were most of the cost of a message). Anything else
/// (other keys, a list-valued or string tensor, a number that overflows, a check that fails) gives
/// nil, and the line goes to the general reader, which gives the same result or the protocol error;
/// that reader parses with `parse` too (`foundation` turns its values into Foundation's), so numbers
/// read the same on both paths.
enum WorkerProtocolFastPath {
    /// A JSON value with numbers kept as their text. Not `indirect`: the arrays hold the nesting, and
    /// boxing every value (strings and numbers among them) was an allocation per value.
    enum J {
        case object([(key: String, value: J)])
        case array([J])
        case string(String)
        case number(Substring.UTF8View)
        case bool(Bool)
        case null
    }

    /// Parses one JSON line; nil when the text uses anything beyond the plain subset (string
    /// escapes, non-ASCII outside strings, duplicate keys) or is not JSON.
    static func parse(_ line: Data) -> J? {
        line.withUnsafeBytes { raw -> J? in
            let b = raw.bindMemory(to: UInt8.self)
            var i = 0
            guard let v = value(b, &i, depth: 0) else { return nil }
            skipSpace(b, &i)
            return i == b.count ? v : nil
        }
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    private static func value(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, depth: Int) -> J? {
        guard depth < 64 else { return nil }
        skipSpace(b, &i)
        guard i < b.count else { return nil }
        switch b[i] {
        case 0x7B:  // {
            i += 1
            var entries: [(key: String, value: J)] = []
            entries.reserveCapacity(8)  // the protocol's objects have a handful of fields
            skipSpace(b, &i)
            if i < b.count, b[i] == 0x7D { i += 1; return .object(entries) }
            while true {
                skipSpace(b, &i)
                guard let key = string(b, &i) else { return nil }
                skipSpace(b, &i)
                guard i < b.count, b[i] == 0x3A else { return nil }
                i += 1
                guard let v = value(b, &i, depth: depth + 1) else { return nil }
                if entries.contains(where: { $0.key == key }) { return nil }
                entries.append((key, v))
                skipSpace(b, &i)
                guard i < b.count else { return nil }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x7D { i += 1; return .object(entries) }
                return nil
            }
        case 0x5B:  // [
            i += 1
            var items: [J] = []
            items.reserveCapacity(4)
            skipSpace(b, &i)
            if i < b.count, b[i] == 0x5D { i += 1; return .array(items) }
            while true {
                guard let v = value(b, &i, depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace(b, &i)
                guard i < b.count else { return nil }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x5D { i += 1; return .array(items) }
                return nil
            }
        case 0x22:
            return string(b, &i).map(J.string)
        case 0x74:  // true
            guard i + 4 <= b.count, b[i + 1] == 0x72, b[i + 2] == 0x75, b[i + 3] == 0x65 else { return nil }
            i += 4
            return .bool(true)
        case 0x66:  // false
            guard i + 5 <= b.count, b[i + 1] == 0x61, b[i + 2] == 0x6C, b[i + 3] == 0x73, b[i + 4] == 0x65 else {
                return nil
            }
            i += 5
            return .bool(false)
        case 0x6E:  // null
            guard i + 4 <= b.count, b[i + 1] == 0x75, b[i + 2] == 0x6C, b[i + 3] == 0x6C else { return nil }
            i += 4
            return .null
        default:
            // A number: -?digits(.digits)?([eE][+-]?digits)?, as RFC 8259 writes it.
            let start = i
            if i < b.count, b[i] == 0x2D { i += 1 }
            let intStart = i
            while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
            let intDigits = i - intStart
            guard intDigits > 0, !(intDigits > 1 && b[intStart] == 0x30) else { return nil }
            if i < b.count, b[i] == 0x2E {
                i += 1
                let f = i
                while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
                guard i > f else { return nil }
            }
            if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
                i += 1
                if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
                let e = i
                while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
                guard i > e else { return nil }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            return .number(Substring(text).utf8)
        }
    }

    /// A string: valid UTF-8 without control characters, with RFC 8259's escapes (`\"`, `\\`, `\/`,
    /// `\b`, `\f`, `\n`, `\r`, `\t`, `\uXXXX`, a surrogate pair for a character beyond U+FFFF); nil
    /// for anything else (a lone surrogate among it).
    private static func string(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> String? {
        guard i < b.count, b[i] == 0x22 else { return nil }
        i += 1
        let start = i
        var ascii = true
        while i < b.count, b[i] != 0x22 {
            let c = b[i]
            if c == 0x5C { return escaped(b, &i, from: start) }
            if c < 0x20 { return nil }
            if c >= 0x80 { ascii = false }
            i += 1
        }
        guard i < b.count else { return nil }
        let bytes = UnsafeBufferPointer(rebasing: b[start..<i])
        i += 1
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The rest of a string from its first backslash at `i` (its text began at `start`).
    private static func escaped(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, from start: Int) -> String? {
        var out = Array(b[start..<i])
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                let c = b[k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            return v
        }
        while i < b.count, b[i] != 0x22 {
            let c = b[i]
            if c < 0x20 { return nil }
            guard c == 0x5C else { out.append(c); i += 1; continue }
            guard i + 1 < b.count else { return nil }
            switch b[i + 1] {
            case 0x22, 0x5C, 0x2F: out.append(b[i + 1])
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard var v = hex4(i + 2) else { return nil }
                if (0xD800...0xDBFF).contains(v) {
                    // A high surrogate needs its low one: `\uD83D\uDE00`.
                    guard i + 7 < b.count, b[i + 6] == 0x5C, b[i + 7] == 0x75, let low = hex4(i + 8),
                        (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(v) {
                    return nil
                }
                guard let scalar = Unicode.Scalar(v) else { return nil }
                out.append(contentsOf: Array(String(scalar).utf8))
                i += 4
            default: return nil
            }
            i += 2
        }
        guard i < b.count else { return nil }
        i += 1
        return out.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
    }

    /// A parsed value as Foundation's JSON reader gives it (`[String: Any]`, `[Any]`, `String`,
    /// `NSNumber`, `NSNull`), with every number read exactly: an integer literal that fits as an
    /// `Int`, anything else as the nearest `Double` (Foundation's reader takes a long mantissa through
    /// `Decimal` and misses the nearest double for about half of the 17-digit numbers Swift writes).
    /// Nil when a number overflows a double (Foundation's reader then gives its result or its error).
    static func foundation(_ j: J) -> Any? {
        switch j {
        case .object(let entries):
            var o: [String: Any] = [:]
            for (key, value) in entries {
                guard let v = foundation(value) else { return nil }
                o[key] = v
            }
            return o
        case .array(let items):
            var a: [Any] = []
            a.reserveCapacity(items.count)
            for item in items {
                guard let v = foundation(item) else { return nil }
                a.append(v)
            }
            return a
        case .string(let s): return s
        case .bool(let b): return NSNumber(value: b)
        case .null: return NSNull()
        case .number:
            if let n = integerLiteral(j) { return NSNumber(value: n) }
            return plainDouble(j).map { NSNumber(value: $0) }
        }
    }

    // MARK: Typed fields

    /// A non-negative integer written as plain digits (at most 18), as a shape or dim is.
    static func plainInt(_ j: J) -> Int? {
        guard case .number(let u) = j else { return nil }
        var n = 0, digits = 0, negative = false
        for (k, c) in u.enumerated() {
            if k == 0 && c == 0x2D { negative = true; continue }
            guard (0x30...0x39).contains(c) else { return nil }
            n = n * 10 + Int(c - 0x30)
            digits += 1
        }
        guard digits > 0, digits <= 18 else { return nil }
        return negative ? -n : n
    }

    /// A number as a Double, read exactly (the nearest double, as `Double(_:)` reads text): an integer
    /// literal as an integer first (so `-0` is +0.0); nil when it overflows.
    static func plainDouble(_ j: J) -> Double? {
        if let n = integerLiteral(j) { return Double(n) }
        guard case .number(let u) = j, let v = Double(String(Substring(u))), v.isFinite else { return nil }
        return v
    }

    /// A number written without a fraction or an exponent that fits an `Int`.
    static func integerLiteral(_ j: J) -> Int? {
        guard case .number(let u) = j, !u.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) else {
            return nil
        }
        return Int(String(Substring(u)))
    }

    /// A tensor of dtype float64, float32, int64 or bool, checked as `WorkerProtocol.value` checks
    /// it; nil for any other form or any failed check.
    static func tensor(
        _ fields: [(key: String, value: J)], budget: inout Int, named: Bool = true
    ) -> (name: String, value: Value)? {
        var name: String? = named ? nil : "", dtype: String? = nil, shapeJ: [J]? = nil, dataText: String? = nil
        for (key, v) in fields {
            switch (key, v) {
            case ("name", .string(let s)) where named: name = s
            case ("dtype", .string(let s)): dtype = s
            case ("shape", .array(let a)): shapeJ = a
            case ("data", .string(let s)): dataText = s
            default: return nil
            }
        }
        guard let name, let dtype, let shapeJ, let dataText else { return nil }
        var shape: [Int] = []
        shape.reserveCapacity(shapeJ.count)
        var count = 1
        for d in shapeJ {
            guard let n = plainInt(d), n >= 0 else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { return nil }
            count = p
            shape.append(n)
        }
        guard count <= budget else { return nil }
        let value: Value
        switch dtype {
        case "float64":
            guard let scalars = base64Elements(dataText, count: count, as: Double.self) else { return nil }
            value = .real(RealTensor(Tensor(shape: shape, scalars: scalars), dtype: .float64))
        case "float32":
            guard let scalars = base64Elements(dataText, count: count, as: Float.self) else { return nil }
            value = .real(RealTensor(Tensor(shape: shape, scalars: scalars.map(Double.init)), dtype: .float32))
        case "int64":
            guard let scalars = base64Elements(dataText, count: count, as: Int64.self) else { return nil }
            value = .integer(Tensor(shape: shape, scalars: scalars.map { Int($0) }))
        case "bool":
            guard let bytes = base64Elements(dataText, count: count, as: UInt8.self) else { return nil }
            value = .boolean(Tensor(shape: shape, scalars: bytes.map { $0 != 0 }))
        default: return nil
        }
        budget -= count
        return (name, value)
    }

    /// The bytes of base64 text in the form `appendBase64` writes it (RFC 4648's alphabet, `=` padding
    /// to a multiple of four, the unused bits zero), without Foundation; nil for anything else, which
    /// Foundation's decoder then reads (or refuses) as before.
    static func canonicalBase64(_ text: String) -> Data? {
        var text = text
        return text.withUTF8 { u -> Data? in
            guard let n = canonicalBase64Count(u) else { return nil }
            var out = Data(count: n)
            let ok = out.withUnsafeMutableBytes { decodeCanonicalBase64(u, into: $0) }
            return ok ? out : nil
        }
    }

    /// `count` elements of `T` (little-endian in the text) from base64 text, decoded straight into the
    /// array: the canonical form without Foundation, anything else through Foundation's decoder; nil
    /// when the text is not base64 of exactly that many elements.
    static func base64Elements<T: BitwiseCopyable>(_ text: String, count: Int, as: T.Type) -> [T]? {
        var text = text
        let width = MemoryLayout<T>.stride
        let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow else { return nil }
        let decoded = text.withUTF8 { u -> [T]? in
            guard canonicalBase64Count(u) == bytes else { return nil }
            var ok = false
            let a = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                ok = decodeCanonicalBase64(u, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = ok ? count : 0
            }
            return ok ? a : nil
        }
        let elements: [T]
        if let decoded {
            elements = decoded
        } else {
            guard let data = Data(base64Encoded: text), data.count == bytes else { return nil }
            elements = data.withUnsafeBytes { raw in
                (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * width, as: T.self) }
            }
        }
        #if _endian(big)
        return elements.map { value in
            var v = value
            withUnsafeMutableBytes(of: &v) { $0.reverse() }
            return v
        }
        #else
        return elements
        #endif
    }

    /// Each byte's value in the base64 alphabet; 0xFF for a byte outside it.
    private static let base64Values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (k, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            t[Int(c)] = UInt8(k)
        }
        return t
    }()

    /// The number of bytes that base64 text of the canonical form's length and padding holds; nil
    /// when its length is not a multiple of four.
    private static func canonicalBase64Count(_ u: UnsafeBufferPointer<UInt8>) -> Int? {
        guard u.count % 4 == 0 else { return nil }
        if u.isEmpty { return 0 }
        let padding = u[u.count - 1] == 0x3D ? (u[u.count - 2] == 0x3D ? 2 : 1) : 0
        return u.count / 4 * 3 - padding
    }

    /// Decodes base64 text of the canonical form into `o`, which has room for exactly its bytes;
    /// false for anything else (a byte outside the alphabet, padding in the middle, unused bits set).
    private static func decodeCanonicalBase64(_ u: UnsafeBufferPointer<UInt8>, into o: UnsafeMutableRawBufferPointer)
        -> Bool
    {
        guard let n = canonicalBase64Count(u), n == o.count else { return false }
        if u.isEmpty { return true }
        let padding = u.count / 4 * 3 - n
        return base64Values.withUnsafeBufferPointer { t -> Bool in
            var i = 0, j = 0
            let whole = padding == 0 ? u.count : u.count - 4
            while i < whole {
                let a = t[Int(u[i])], b = t[Int(u[i + 1])], c = t[Int(u[i + 2])], d = t[Int(u[i + 3])]
                guard (a | b | c | d) & 0x80 == 0 else { return false }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                o[j] = UInt8(truncatingIfNeeded: v >> 16)
                o[j + 1] = UInt8(truncatingIfNeeded: v >> 8)
                o[j + 2] = UInt8(truncatingIfNeeded: v)
                i += 4
                j += 3
            }
            guard padding > 0 else { return true }
            let a = t[Int(u[i])], b = t[Int(u[i + 1])]
            guard (a | b) & 0x80 == 0 else { return false }
            if padding == 2 {
                guard b & 15 == 0 else { return false }
                o[j] = a << 2 | b >> 4
                return true
            }
            let c = t[Int(u[i + 2])]
            guard c & 0x80 == 0, c & 3 == 0 else { return false }
            o[j] = a << 2 | b >> 4
            o[j + 1] = (b & 15) << 4 | c >> 2
            return true
        }
    }

    static func isProtocolOne(_ j: J) -> Bool {
        guard case .number(let u) = j else { return false }
        return u.elementsEqual("1".utf8)
    }

    // MARK: Messages

    /// A real tensor without a name (a gradient's analytic or numeric value).
    static func realTensor(_ j: J, budget: inout Int) -> RealTensor? {
        guard case .object(let t) = j, case .real(let r)? = tensor(t, budget: &budget, named: false)?.value else {
            return nil
        }
        return r
    }

    /// A reply with outputs, and gradients and directional derivatives when a gradcheck was asked,
    /// for the request `id`; nil for anything else.
    static func reply(_ line: Data, id: String, maxElements: Int) -> WorkerProtocol.Answer? {
        guard case .object(let fields)? = parse(line) else { return nil }
        var sawProtocol = false, replyID: String? = nil, outputsJ: [J]? = nil
        var gradientsJ: [J] = [], directionalJ: [J] = []
        for (key, v) in fields {
            switch (key, v) {
            case ("protocol", let p): guard isProtocolOne(p) else { return nil }; sawProtocol = true
            case ("id", .string(let s)): replyID = s
            case ("outputs", .array(let a)): outputsJ = a
            case ("gradients", .array(let a)): gradientsJ = a
            case ("directional", .array(let a)): directionalJ = a
            default: return nil
            }
        }
        guard sawProtocol, replyID == id, let outputsJ else { return nil }
        var budget = maxElements
        var outputs = KernelOutputs()
        for item in outputsJ {
            guard case .object(let t) = item, let named = tensor(t, budget: &budget), outputs[named.name] == nil else {
                return nil
            }
            outputs[named.name] = named.value
        }
        var gradients: [GradientPair] = []
        for item in gradientsJ {
            guard case .object(let g) = item else { return nil }
            var name: String? = nil, analytic: RealTensor? = nil, numeric: RealTensor? = nil
            for (key, v) in g {
                switch (key, v) {
                case ("name", .string(let s)): name = s
                case ("analytic", let t): guard let r = realTensor(t, budget: &budget) else { return nil }; analytic = r
                case ("numeric", let t): guard let r = realTensor(t, budget: &budget) else { return nil }; numeric = r
                default: return nil
                }
            }
            guard let name, let analytic else { return nil }
            gradients.append(GradientPair(name: name, analytic: analytic, numeric: numeric))
        }
        guard directionalJ.count <= GradCheck.maxDirections else { return nil }
        var directional: [Double] = []
        for x in directionalJ {
            switch x {
            case .string("nan"): directional.append(.nan)
            case .string("inf"): directional.append(.infinity)
            case .string("-inf"): directional.append(-.infinity)
            default:
                guard let v = plainDouble(x) else { return nil }
                directional.append(v)
            }
        }
        return .outputs(ExecutionReply(outputs: outputs, gradients: gradients, directional: directional))
    }

    /// A request's gradcheck, as the general reader reads it; nil for any other form (which that
    /// reader then reads or refuses).
    static func gradcheck(_ fields: [(key: String, value: J)]) -> GradCheckPlan? {
        var wrt: [String]? = nil, eps: Double? = nil, loss: String? = nil
        var mode: GradCheckMode? = nil, directions: Int? = nil, seed: Int? = nil, abs: Double? = nil, rel: Double? = nil
        for (key, v) in fields {
            switch (key, v) {
            case ("wrt", .array(let a)):
                var names: [String] = []
                for item in a {
                    guard case .string(let s) = item else { return nil }
                    names.append(s)
                }
                wrt = names
            case ("eps", let x): guard let d = plainDouble(x) else { return nil }; eps = d
            case ("loss", .string(let s)): loss = s
            case ("mode", .string(let s)): guard let m = GradCheckMode(rawValue: s) else { return nil }; mode = m
            case ("directions", let x):
                guard let k = plainInt(x), (1...GradCheck.maxDirections).contains(k) else { return nil }
                directions = k
            case ("seed", let x): guard let n = plainInt(x), n >= 0 else { return nil }; seed = n
            case ("abs", let x): guard let d = plainDouble(x) else { return nil }; abs = d
            case ("rel", let x): guard let d = plainDouble(x) else { return nil }; rel = d
            default: return nil
            }
        }
        guard let wrt, let eps, let loss else { return nil }
        var plan = GradCheckPlan(wrt: wrt, eps: eps, loss: loss)
        if let mode { plan.mode = mode }
        if let directions { plan.directions = directions }
        if let seed { plan.seed = UInt64(seed) }
        if let abs { plan.tolerance.abs = abs }
        if let rel { plan.tolerance.rel = rel }
        return plan
    }

    /// A request whose params are strings, booleans and numbers of the types the kernel declares,
    /// with or without a gradcheck; nil for anything else.
    static func request(_ line: Data, registry: KernelRegistry) -> ExecutionRequest? {
        guard case .object(let fields)? = parse(line) else { return nil }
        var sawProtocol = false, id: String? = nil, kernel: String? = nil
        var paramsJ: [(key: String, value: J)] = [], inputsJ: [J] = [], dimsJ: [(key: String, value: J)] = []
        var plan: GradCheckPlan? = nil
        for (key, v) in fields {
            switch (key, v) {
            case ("protocol", let p): guard isProtocolOne(p) else { return nil }; sawProtocol = true
            case ("id", .string(let s)): id = s
            case ("kernel", .string(let s)): kernel = s
            case ("params", .object(let o)): paramsJ = o
            case ("inputs", .array(let a)): inputsJ = a
            case ("dims", .object(let o)): dimsJ = o
            case ("gradcheck", .object(let o)): guard let g = gradcheck(o) else { return nil }; plan = g
            default: return nil
            }
        }
        guard sawProtocol, let id, let kernel, let spec = registry.kernel(named: kernel)?.spec else { return nil }
        var params: [String: ParamValue] = [:]
        params.reserveCapacity(8)
        for (name, raw) in paramsJ {
            guard let type = spec.params.first(where: { $0.name == name })?.type else { return nil }
            switch (type, raw) {
            case (.integer, _):
                guard let n = plainInt(raw) else { return nil }
                params[name] = .integer(n)
            case (.real, .string(let s)):
                switch s {
                case "nan": params[name] = .real(.nan)
                case "inf": params[name] = .real(.infinity)
                case "-inf": params[name] = .real(-.infinity)
                default: return nil
                }
            case (.real, _):
                guard let v = plainDouble(raw) else { return nil }
                params[name] = .real(v)
            case (.boolean, .bool(let b)): params[name] = .boolean(b)
            case (.string, .string(let s)), (.choice, .string(let s)): params[name] = .string(s)
            default: return nil
            }
        }
        var inputs: [String: Value] = [:]
        inputs.reserveCapacity(8)
        var unlimited = Int.max
        for item in inputsJ {
            guard case .object(let t) = item, let named = tensor(t, budget: &unlimited) else { return nil }
            inputs[named.name] = named.value
        }
        var dims: [String: Int] = [:]
        dims.reserveCapacity(8)
        for (name, raw) in dimsJ {
            guard let n = plainInt(raw) else { return nil }
            dims[name] = n
        }
        return ExecutionRequest(id: id, kernel: kernel, params: params, inputs: inputs, dims: dims, gradcheck: plan)
    }
}
