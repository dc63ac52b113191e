import Foundation
import RNNKernels
import Yams
import ZIPFoundation

// NumPy's `.npy` format (versions 1.0, 2.0, 3.0) and `.npz` archives (zip files of `.npy`
// members, stored or deflated), read and written without NumPy. See docs/numpy-data.md, "Inputs from .npy
// and .npz files".

/// The element type of an `.npy` array.
public enum NpyDType: Equatable, Sendable, CustomStringConvertible {
    case bool
    case int(bytes: Int)
    case uint(bytes: Int)
    case float(bytes: Int)

    /// NumPy's name: float64, int8, uint16, bool.
    public var description: String {
        switch self {
        case .bool: return "bool"
        case .int(let b): return "int\(8 * b)"
        case .uint(let b): return "uint\(8 * b)"
        case .float(let b): return "float\(8 * b)"
        }
    }

    var itemSize: Int {
        switch self {
        case .bool: return 1
        case .int(let b), .uint(let b), .float(let b): return b
        }
    }
}

/// The values of an `.npy` array, in C (row-major) order.
public enum NpyValues: Equatable, Sendable {
    case reals([Double])
    case integers([Int])
    case booleans([Bool])
}

/// An array read from (or to be written to) an `.npy` file.
public struct NpyArray: Equatable, Sendable {
    /// The element type.
    public var dtype: NpyDType
    /// The shape (C order in `values`).
    public var shape: [Int]
    /// The elements, row-major.
    public var values: NpyValues
}

/// Why an `.npy`/`.npz` file cannot be used: a short statement of what is wrong.
public struct NpyError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The problem, one line.
    public var description: String
    init(_ d: String) { description = d }
}

/// Reads `.npy` files: format versions 1.0, 2.0 and 3.0, either byte order, C or Fortran order.
public enum NpyReader {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// The header of an `.npy` file: dtype, byte order, order and shape, and where the data starts.
    struct Header {
        var dtype: NpyDType
        var bigEndian: Bool
        var fortran: Bool
        var shape: [Int]
        var dataOffset: Int
    }

    /// Parses the header; `checkCount` is given the element count before any data is read
    /// (it throws to refuse a count over the limit).
    static func header(
        _ bytes: [UInt8], checkShape: ([Int]) throws -> Void = { _ in }, checkCount: (Int) throws -> Void
    ) throws -> Header {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw NpyError("not an .npy file (it does not start with \\x93NUMPY)")
        }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NpyError("truncated: the file ends inside the header length") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw NpyError("format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard minor == 0 else {
            throw NpyError("format version \(major).\(minor) is not supported (1.0, 2.0 and 3.0 are)")
        }
        guard bytes.count >= start + headerLength else {
            throw NpyError(
                "truncated: the header says it is \(headerLength) bytes but the file has \(bytes.count - start) after the preamble"
            )
        }
        let headerBytes = bytes[start..<(start + headerLength)]
        guard
            let text = major == 3
                ? String(bytes: headerBytes, encoding: .utf8) : String(bytes: headerBytes, encoding: .isoLatin1),
            major == 3 || headerBytes.allSatisfy({ $0 < 0x80 })
        else {
            throw NpyError("the header is not \(major == 3 ? "UTF-8" : "ASCII") text")
        }
        var parser = HeaderParser(text: Array(text.unicodeScalars))
        let dict = try parser.dictionary()
        for key in dict.keys where !["descr", "fortran_order", "shape"].contains(key) {
            throw NpyError("the header has an unknown key '\(key)'")
        }
        guard case .string(let descr)? = dict["descr"] else {
            if case .other(let d)? = dict["descr"] {
                throw NpyError("unsupported dtype \(d): structured and record arrays are not supported")
            }
            throw NpyError("the header has no 'descr' string")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else {
            throw NpyError("the header has no 'fortran_order' True/False")
        }
        guard case .tuple(let shape)? = dict["shape"] else { throw NpyError("the header has no 'shape' tuple") }
        var count = 1
        for d in shape {
            guard d >= 0 else { throw NpyError("the shape \(shape.shapeText) has a negative dimension") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw NpyError("the shape \(shape.shapeText) overflows a 64-bit element count") }
            count = p
        }
        let (dtype, big) = try parseDescr(descr)
        try checkShape(shape)
        try checkCount(count)
        return Header(dtype: dtype, bigEndian: big, fortran: fortran, shape: shape, dataOffset: start + headerLength)
    }

    static func parseDescr(_ d: String) throws -> (NpyDType, Bool) {
        let scalars = Array(d)
        guard scalars.count >= 2 else { throw NpyError("unsupported dtype '\(d)'") }
        var order = scalars[0], rest = String(scalars[1...])
        if !"<>|=".contains(order) { order = "|"; rest = d }
        let big = order == ">"
        let kind = rest.first!, size = Int(rest.dropFirst())
        let dtype: NpyDType
        switch (kind, size) {
        case ("b", 1?), ("?", nil), ("?", 1?): dtype = .bool
        case ("i", let s?) where [1, 2, 4, 8].contains(s): dtype = .int(bytes: s)
        case ("u", let s?) where [1, 2, 4, 8].contains(s): dtype = .uint(bytes: s)
        case ("f", let s?) where [2, 4, 8].contains(s): dtype = .float(bytes: s)
        case ("c", _): throw NpyError("unsupported dtype '\(d)' (complex)")
        case ("O", _): throw NpyError("unsupported dtype '\(d)' (Python objects)")
        case ("U", _), ("S", _), ("a", _): throw NpyError("unsupported dtype '\(d)' (strings)")
        case ("f", _): throw NpyError("unsupported dtype '\(d)' (only float16, float32 and float64)")
        default: throw NpyError("unsupported dtype '\(d)' (supported: bool, int8-64, uint8-64, float16/32/64)")
        }
        return (dtype, big)
    }

    /// Reads a whole `.npy` file.
    public static func read(
        _ data: Data, checkShape: ([Int]) throws -> Void = { _ in },
        checkCount: (Int) throws -> Void = { _ in }
    ) throws -> NpyArray {
        let bytes = [UInt8](data)
        let h = try header(bytes, checkShape: checkShape, checkCount: checkCount)
        let count = h.shape.reduce(1, *)
        let (needed, o) = count.multipliedReportingOverflow(by: h.dtype.itemSize)
        let available = bytes.count - h.dataOffset
        guard !o, available >= needed else {
            throw NpyError(
                "truncated: the shape \(h.shape.shapeText) of \(h.dtype.itemSize)-byte elements needs \(o ? "more than 2^63" : String(needed)) bytes of data but the file has \(available)"
            )
        }
        guard available == needed else {
            throw NpyError(
                "\(available - needed) bytes after the data (the header's shape \(h.shape.shapeText) accounts for \(needed))"
            )
        }
        // C-order index k → element position in the file.
        let position: (Int) -> Int
        if h.fortran && h.shape.count > 1 {
            let shape = h.shape
            position = { k in
                var rem = k, pos = 0, step = 1
                var idx = [Int](repeating: 0, count: shape.count)
                for a in (0..<shape.count).reversed() { idx[a] = rem % shape[a]; rem /= shape[a] }
                for a in 0..<shape.count { pos += idx[a] * step; step *= shape[a] }
                return pos
            }
        } else {
            position = { $0 }
        }
        let size = h.dtype.itemSize, base = h.dataOffset
        func raw(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            let off = base + position(i) * size
            for b in 0..<size {
                let byte = UInt64(bytes[off + b])
                v |= h.bigEndian ? byte << UInt64(8 * (size - 1 - b)) : byte << UInt64(8 * b)
            }
            return v
        }
        switch h.dtype {
        case .bool:
            return NpyArray(
                dtype: h.dtype, shape: h.shape,
                values: .booleans(
                    try (0..<count).map { i in
                        let r = raw(i)
                        guard r <= 1 else { throw NpyError("a bool element is \(r), not 0 or 1") }
                        return r == 1
                    }))
        case .int(let s):
            return NpyArray(
                dtype: h.dtype, shape: h.shape,
                values: .integers(
                    (0..<count).map { i in
                        let r = raw(i), shift = UInt64(64 - 8 * s)
                        return Int(Int64(bitPattern: r << shift) >> Int64(shift))
                    }))
        case .uint:
            return NpyArray(
                dtype: h.dtype, shape: h.shape,
                values: .integers(
                    try (0..<count).map { i in
                        let r = raw(i)
                        guard let v = Int(exactly: r) else {
                            throw NpyError("a uint64 element \(r) is too large for a 64-bit integer")
                        }
                        return v
                    }))
        case .float(let s):
            return NpyArray(
                dtype: h.dtype, shape: h.shape,
                values: .reals(
                    (0..<count).map { i in
                        let r = raw(i)
                        switch s {
                        case 2: return halfToDouble(UInt16(r))
                        case 4: return Double(Float(bitPattern: UInt32(r)))
                        default: return Double(bitPattern: r)
                        }
                    }))
        }
    }

    /// IEEE binary16 → Double, exactly.
    static func halfToDouble(_ h: UInt16) -> Double {
        let sign = (h & 0x8000) != 0 ? -1.0 : 1.0
        let exp = Int((h >> 10) & 0x1f), frac = Double(h & 0x3ff)
        if exp == 0 { return sign * frac * 0x1p-24 }
        if exp == 31 { return frac == 0 ? sign * .infinity : .nan }
        return sign * (1 + frac / 1024) * Double(sign: .plus, exponent: exp - 15, significand: 1)
    }

    /// The header dictionary's values.
    enum HeaderValue: Equatable { case string(String), bool(Bool), tuple([Int]), other(String) }

    /// A parser for the Python literal NumPy writes: {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
    struct HeaderParser {
        var text: [Unicode.Scalar]
        var i = 0
        mutating func skip() { while i < text.count, text[i] == " " || text[i] == "\n" || text[i] == "\t" { i += 1 } }
        mutating func expect(_ c: Unicode.Scalar) throws {
            skip()
            guard i < text.count, text[i] == c else {
                throw NpyError("the header is not a Python dict literal (expected '\(c)' at character \(i))")
            }
            i += 1
        }
        mutating func peek() -> Unicode.Scalar? { skip(); return i < text.count ? text[i] : nil }
        mutating func string() throws -> String {
            skip()
            guard i < text.count, text[i] == "'" || text[i] == "\"" else {
                throw NpyError("the header is not a Python dict literal (expected a quoted string at character \(i))")
            }
            let q = text[i]
            i += 1
            var s = ""
            while i < text.count, text[i] != q { s.unicodeScalars.append(text[i]); i += 1 }
            guard i < text.count else { throw NpyError("the header has an unterminated string") }
            i += 1
            return s
        }
        mutating func value() throws -> HeaderValue {
            guard let c = peek() else { throw NpyError("the header ends too early") }
            if c == "'" || c == "\"" { return .string(try string()) }
            if c == "(" {
                i += 1
                var dims = [Int]()
                while true {
                    if peek() == ")" { i += 1; break }
                    var digits = ""
                    while i < text.count, ("0"..."9").contains(text[i]) || (digits.isEmpty && text[i] == "-") {
                        digits.unicodeScalars.append(text[i]); i += 1
                    }
                    guard let d = Int(digits) else { throw NpyError("the header's shape is not a tuple of integers") }
                    dims.append(d)
                    if peek() == "," {
                        i += 1
                    } else if peek() != ")" {
                        throw NpyError("the header's shape is not a tuple of integers")
                    }
                }
                return .tuple(dims)
            }
            var word = ""
            var depth = 0
            while i < text.count {
                let ch = text[i]
                if depth == 0 && (ch == "," || ch == "}") { break }
                if ch == "[" || ch == "(" || ch == "{" { depth += 1 }
                if ch == "]" || ch == ")" || ch == "}" { depth -= 1 }
                word.unicodeScalars.append(ch)
                i += 1
            }
            word = word.trimmingCharacters(in: .whitespaces)
            if word == "True" { return .bool(true) }
            if word == "False" { return .bool(false) }
            return .other(word)
        }
        mutating func dictionary() throws -> [String: HeaderValue] {
            try expect("{")
            var d: [String: HeaderValue] = [:]
            while true {
                if peek() == "}" { i += 1; break }
                let k = try string()
                try expect(":")
                guard d[k] == nil else { throw NpyError("the header repeats the key '\(k)'") }
                d[k] = try value()
                if peek() == "," {
                    i += 1
                } else if peek() != "}" {
                    throw NpyError("the header is not a Python dict literal (expected ',' or '}' at character \(i))")
                }
            }
            skip()
            guard i == text.count else { throw NpyError("the header has text after the dict") }
            return d
        }
    }
}
