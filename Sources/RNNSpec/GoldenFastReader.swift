import Foundation
import RNNKernels
import Yams

extension Golden {
    /// Reads a golden in exactly the layout `serialized()` writes, with real, integer and boolean
    /// outputs; nil for anything else, which then goes through YAML. It gives the same `Golden`
    /// as the YAML path for every file it accepts, without building YAML nodes (the golden was
    /// the largest cost of running a small case).
    static func parseCanonical(_ text: String, limits: LoadLimits = LoadLimits()) -> Golden? {
        var elements = 0
        var text = text
        return text.withUTF8 { bytes -> Golden? in
            // One pass: CR, a backslash (escapes), and what the fast readers leave to libyaml (YAML's other
            // line breaks NEL, LS and PS, C1 controls, a byte order mark, noncharacters; rnnspec writes
            // all of them escaped). Eight bytes at a time while they are ASCII (a golden usually is).
            var i = 0
            if let base = UnsafeRawPointer(bytes.baseAddress) {
                /// Whether any byte of `w` is zero (exact for "any").
                func hasZeroByte(_ w: UInt64) -> Bool {
                    (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080 != 0
                }
                while i + 8 <= bytes.count {
                    let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if w & 0x8080_8080_8080_8080 != 0 { break }
                    if hasZeroByte(w ^ 0x0D0D_0D0D_0D0D_0D0D) || hasZeroByte(w ^ 0x5C5C_5C5C_5C5C_5C5C) { return nil }
                    i += 8
                }
            }
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b < 0x80 {
                    if b == 0x0D || b == 0x5C { return nil }
                    continue
                }
                if FastComposer.leftToLibyaml(bytes, at: i - 1) { return nil }
            }
            var lines: [String] = []
            lines.reserveCapacity(bytes.count / 24 + 8)
            var lineStart = 0
            // Line breaks found by `memchr`, many bytes at a time.
            while lineStart < bytes.count,
                let found = memchr(bytes.baseAddress! + lineStart, 0x0A, bytes.count - lineStart)
            {
                let j = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - bytes.baseAddress!
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<j]), as: UTF8.self))
                lineStart = j + 1
            }
            lines.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart...]), as: UTF8.self))
            guard lines.count >= 7, lines.removeLast().isEmpty, lines[0].hasPrefix("# "),
                lines[1] == "format: 1" || lines[1] == "format: 2",
                let caseID = quotedField(lines[2], "case"), let kernel = quotedField(lines[3], "kernel"),
                lines[4].hasPrefix("digest: ")
            else { return nil }
            func isHex(_ t: Substring) -> Bool {
                !t.isEmpty && t.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            }
            let digest = String(lines[4].dropFirst(8))
            guard isHex(digest[...]) else { return nil }
            var k = 5
            // Format 2: `digests:`, then `  params:` and `  inputs:`, each `{}` or `    name: hex` lines.
            var parts: CaseDigest.Parts? = nil
            if lines[1] == "format: 2" {
                guard lines[k] == "digests:" else { return nil }
                k += 1
                var p = CaseDigest.Parts(params: [:], inputs: [:])
                for key in ["params", "inputs"] {
                    guard k < lines.count else { return nil }
                    if lines[k] == "  \(key): {}" { k += 1; continue }
                    guard lines[k] == "  \(key):" else { return nil }
                    k += 1
                    var any = false
                    // `    name: hex`, read on the bytes (the first colon ends the name).
                    while k < lines.count, let (written, hex) = digestLine(lines[k]) {
                        let name =
                            written.hasPrefix("\"") && written.hasSuffix("\"") && written.count >= 2
                            ? String(written.dropFirst().dropLast()) : written
                        guard !name.isEmpty, YAMLText.scalar(name) == written else { return nil }
                        if key == "params" { p.params[name] = hex } else { p.inputs[name] = hex }
                        any = true
                        k += 1
                    }
                    guard any else { return nil }
                }
                parts = p
            } else {
                guard lines[k] != "digests:" else { return nil }
            }
            guard k < lines.count, lines[k] == "outputs:" else { return nil }
            k += 1
            var outputs: [(name: String, value: Value)] = []
            var outputLines: [String: Int] = [:]
            /// A tensor whose `type:` line (as if at `at`'s indent) is `type`, from line `k`: its dtype,
            /// shape and value lines at that indent; nil for anything off that layout.
            func tensor(type: String, _ at: TensorLines) -> Value? {
                var dtype: DType? = nil
                guard k < lines.count else { return nil }
                if type == at.typeReal {
                    switch lines[k] {
                    case at.dtypeFloat64: dtype = .float64
                    case at.dtypeFloat32: dtype = .float32
                    default: return nil
                    }
                    k += 1
                } else if type != at.typeInteger && type != at.typeBoolean {
                    return nil
                }
                guard k < lines.count, lines[k].hasPrefix(at.shapeOpen), lines[k].hasSuffix("]") else { return nil }
                // `[a, b, c]` exactly as `shapeText` writes it: ", " between extents written as
                // `String(d)` writes them (digits, no leading zero).
                var shape: [Int] = []
                var shapeLine = lines[k]
                let shapeRead = shapeLine.withUTF8 { u -> Bool in
                    var i = at.shapeOpen.utf8.count
                    let end = u.count - 1  // the `]`
                    if i == end { return true }
                    while true {
                        let start = i
                        var d = 0
                        while i < end, (0x30...0x39).contains(u[i]) {
                            let (m, o1) = d.multipliedReportingOverflow(by: 10)
                            let (a, o2) = m.addingReportingOverflow(Int(u[i] - 0x30))
                            if o1 || o2 { return false }
                            d = a
                            i += 1
                        }
                        guard i > start, !(u[start] == 0x30 && i - start > 1) else { return false }
                        shape.append(d)
                        if i == end { return true }
                        guard i + 2 <= end, u[i] == 0x2C, u[i + 1] == 0x20 else { return false }
                        i += 2
                    }
                }
                guard shapeRead else { return nil }
                k += 1
                // Nothing is allocated for a declared shape before it is known to be within the
                // limit (all outputs together) and to match the lines that are there; anything
                // else goes to the YAML path, which says what is wrong.
                var count = 1, nonZero = 1
                for d in shape {
                    let (p, overflow) = count.multipliedReportingOverflow(by: d)
                    guard !overflow else { return nil }
                    count = p
                    if d != 0 {
                        let (q, overflow2) = nonZero.multipliedReportingOverflow(by: d)
                        guard !overflow2 else { return nil }
                        nonZero = q
                    }
                }
                let (total, overflow) = elements.addingReportingOverflow(count)
                guard !overflow, total <= limits.maxElements, nonZero <= limits.maxElements else { return nil }
                elements = total
                if shape.count >= 2, count > 0, count / shape.last! > lines.count - k - 1 { return nil }
                // Where the value's items are: a scalar, one row, [] when empty, or one row per line below.
                guard let (spans, next) = valueLines(lines, k, shape, count, at) else { return nil }
                k = next
                let perSpan = spans.isEmpty ? 0 : count / spans.count
                // Real values straight from the bytes; anything appendReals declines goes through the
                // items' text below.
                if let dtype {
                    var scalars: [Double] = []
                    scalars.reserveCapacity(count)
                    let direct = spans.allSatisfy { span in
                        let before = scalars.count
                        return appendReals(
                            lines[span.line], from: span.from, row: span.row, dtype == .float32, &scalars)
                            && scalars.count - before == perSpan
                    }
                    if direct { return .real(RealTensor(Tensor(shape: shape, scalars: scalars), dtype: dtype)) }
                }
                var texts: [Substring] = []
                texts.reserveCapacity(count)
                for span in spans {
                    let rest = lines[span.line].dropFirst(span.from)
                    if span.row {
                        guard let items = rowItems(rest), items.count == perSpan else { return nil }
                        texts += items
                    } else {
                        texts.append(rest)
                    }
                }
                guard texts.count == count else { return nil }
                if let dtype {
                    var scalars: [Double] = []
                    scalars.reserveCapacity(count)
                    for t in texts {
                        guard let v = NumberText.parseReal(String(t)) else { return nil }
                        scalars.append(dtype == .float32 ? Double(Float(v)) : v)
                    }
                    return .real(RealTensor(Tensor(shape: shape, scalars: scalars), dtype: dtype))
                } else if type == at.typeInteger {
                    var scalars: [Int] = []
                    for t in texts {
                        guard let v = NumberText.parseInteger(String(t)) else { return nil }; scalars.append(v)
                    }
                    return .integer(Tensor(shape: shape, scalars: scalars))
                } else {
                    var scalars: [Bool] = []
                    for t in texts {
                        switch t {
                        case "true": scalars.append(true);
                        case "false": scalars.append(false);
                        default: return nil
                        }
                    }
                    return .boolean(Tensor(shape: shape, scalars: scalars))
                }
            }
            while k < lines.count {
                // "  name:" then "    type: ...".
                let header = lines[k]
                let headerLine = k + 1
                guard header.hasPrefix("  "), header.hasSuffix(":"), k + 3 < lines.count else { return nil }
                // A name is plain, or quoted when it would read as something else (`"Y"`, a boolean in YAML 1.1).
                let written = String(header.dropFirst(2).dropLast())
                let name =
                    written.hasPrefix("\"") && written.hasSuffix("\"") && written.count >= 2
                    ? String(written.dropFirst().dropLast()) : written
                guard !name.isEmpty, YAMLText.scalar(name) == written, !outputs.contains(where: { $0.name == name })
                else { return nil }
                let type = lines[k + 1]
                k += 2
                let value: Value
                if type == "    type: list" {
                    // `    items: []`, or `    items:` then items written as tensors at indent 6, the
                    // first line's indent a dash: `    - type: real`. A list inside a list goes to YAML.
                    if lines[k] == "    items: []" {
                        value = .list([])
                        k += 1
                    } else {
                        guard lines[k] == "    items:" else { return nil }
                        k += 1
                        var items: [Value] = []
                        while k < lines.count, lines[k].hasPrefix("    - type: ") {
                            let itemType = "      " + lines[k].dropFirst(6)
                            k += 1
                            guard itemType != "      type: list", let item = tensor(type: itemType, .listItem)
                            else {
                                return nil
                            }
                            items.append(item)
                        }
                        guard !items.isEmpty else { return nil }
                        value = .list(items)
                    }
                } else {
                    guard let v = tensor(type: type, .output) else { return nil }
                    value = v
                }
                outputs.append((name, value))
                outputLines[name] = headerLine
            }
            var golden = Golden(caseID: caseID, kernel: kernel, digest: digest, parts: parts, outputs: outputs)
            golden.outputLines = outputLines
            return golden
        }
    }

    /// The lines `writeTensor` writes for a tensor's fields at one indent (`pad`), made once.
    struct TensorLines {
        let pad: Int
        let typeReal, typeInteger, typeBoolean, dtypeFloat64, dtypeFloat32, shapeOpen: String
        let valueKey, valueEmpty, valueOpen, valueScalar: String

        init(pad: String) {
            self.pad = pad.utf8.count
            typeReal = pad + "type: real"
            typeInteger = pad + "type: integer"
            typeBoolean = pad + "type: boolean"
            dtypeFloat64 = pad + "dtype: float64"
            dtypeFloat32 = pad + "dtype: float32"
            shapeOpen = pad + "shape: ["
            valueKey = pad + "value:"
            valueEmpty = pad + "value: []"
            valueOpen = pad + "value: ["
            valueScalar = pad + "value: "
        }

        /// An output's fields, under `  name:`.
        static let output = TensorLines(pad: "    ")
        /// A list item's fields, under `    - type: ...`.
        static let listItem = TensorLines(pad: "      ")
    }

    /// The length of the dashes and indent `writeTensor` puts before row `row` of a tensor whose
    /// shape without its last axis is `outer`, when `line` starts with them; nil when not.
    private static func rowPrefix(_ line: String, _ row: Int, _ outer: [Int], pad: Int) -> Int? {
        var opening = 1, r = row
        for axis in stride(from: outer.count - 1, to: 0, by: -1) {
            if r % outer[axis] == 0 { opening += 1; r /= outer[axis] } else { break }
        }
        // pad + 2 spaces, two more for each axis not opening here, then "- " for each opening.
        let spaces = pad + 2 + 2 * (outer.count - opening)
        let length = spaces + 2 * opening
        var line = line
        return line.withUTF8 { u -> Int? in
            // The row's `[` follows the prefix: so the prefix's bytes are its characters too (a
            // combining mark after the last space would make the two counts differ).
            guard u.count > length, u[length] == 0x5B else { return nil }
            for i in 0..<spaces where u[i] != 0x20 { return nil }
            for i in stride(from: spaces, to: length, by: 2) where u[i] != 0x2D || u[i + 1] != 0x20 { return nil }
            return length
        }
    }

    /// Where an output's `value:` (from line `k`) keeps its items in the layout `writeTensor` gives it:
    /// per line, its index, the byte its items start at (after the key or the row's dashes; ASCII, so
    /// also its count of characters), and whether it holds a row `[a, b]` (else one item to the line's
    /// end); and the line after the value. Nil for any other layout.
    private static func valueLines(_ lines: [String], _ k: Int, _ shape: [Int], _ count: Int, _ at: TensorLines)
        -> (spans: [(line: Int, from: Int, row: Bool)], next: Int)?
    {
        guard k < lines.count else { return nil }
        let from = at.pad + 7
        if count == 0 { return lines[k] == at.valueEmpty ? ([], k + 1) : nil }
        if shape.isEmpty { return lines[k].hasPrefix(at.valueScalar) ? ([(k, from, false)], k + 1) : nil }
        if shape.count == 1 { return lines[k].hasPrefix(at.valueOpen) ? ([(k, from, true)], k + 1) : nil }
        guard lines[k] == at.valueKey else { return nil }
        let rowLength = shape.last!, outer = Array(shape.dropLast())
        var spans: [(line: Int, from: Int, row: Bool)] = []
        spans.reserveCapacity(count / rowLength)
        var line = k + 1
        for row in 0..<(count / rowLength) {
            guard line < lines.count, let prefix = rowPrefix(lines[line], row, outer, pad: at.pad) else { return nil }
            spans.append((line, prefix, true))
            line += 1
        }
        return (spans, line)
    }

    /// Appends the numbers of `line` from byte `from`: one number to the line's end, or with `row` a
    /// row `[a, b, c]` whose items are separated by exactly ", ". Each item holds only digits, signs,
    /// '.', 'e' and 'E', and reads in full as a finite double: what `NumberText.parseReal` reads such an
    /// item as (C's `strtod`, as Swift's `Double(_:)` uses it). False for anything else.
    static func appendReals(_ line: String, from: Int, row: Bool, _ float32: Bool, _ out: inout [Double])
        -> Bool
    {
        var line = line
        return line.withUTF8 { u -> Bool in
            guard let base = u.baseAddress else { return false }
            var i = from
            var end = u.count
            if row {
                guard end - i >= 3, u[i] == 0x5B, u[end - 1] == 0x5D else { return false }  // [ ]
                i += 1
                end -= 1
            }
            while true {
                let start = i
                var number = false
                scan: while i < end {
                    switch u[i] {
                    case 0x30...0x39, 0x2B, 0x2D: number = true
                    case 0x2E, 0x65, 0x45: break
                    case 0x2C where row: break scan  // ,
                    default: return false
                    }
                    i += 1
                }
                guard number else { return false }
                // In a row strtod stops at the comma or the bracket; a lone number is copied with a NUL
                // after it.
                var stop: UnsafeMutablePointer<CChar>? = nil
                let v: Double
                if let exact = NumberText.fastDecimal(UnsafeBufferPointer(rebasing: u[start..<i])) {
                    v = exact
                } else if row {
                    v = base.withMemoryRebound(to: CChar.self, capacity: u.count) { strtod($0 + start, &stop) }
                    guard let stop, UnsafeRawPointer(stop) == UnsafeRawPointer(base + i) else { return false }
                } else {
                    let text = u[start..<i].map { CChar(bitPattern: $0) } + [0]
                    var read = 0
                    v = text.withUnsafeBufferPointer { t in
                        let x = strtod(t.baseAddress!, &stop)
                        read = stop.map { t.baseAddress!.distance(to: $0) } ?? 0
                        return x
                    }
                    guard read == i - start else { return false }
                }
                guard v.isFinite else { return false }
                out.append(float32 ? Double(Float(v)) : v)
                if i == end { return true }
                guard i + 2 < end, u[i + 1] == 0x20 else { return false }  // ", " then an item
                i += 2
            }
        }
    }

    /// `key: "text"` without escapes: the text.
    private static func quotedField(_ line: String, _ key: String) -> String? {
        // On the bytes: `key: "` (ASCII), then no quote, control, DEL, NEL (C2 85) or line separator
        // (E2 80 A8/A9), then a closing quote.
        let u = Array(line.utf8), head = Array((key + ": \"").utf8)
        guard u.count >= head.count + 1, u.starts(with: head), u.last == 0x22 else { return nil }
        let inner = u[head.count..<(u.count - 1)]
        for i in inner.indices {
            let b = inner[i]
            if b < 0x20 || b == 0x22 || b == 0x7F { return nil }
            if b == 0xC2 && i + 1 < inner.endIndex && inner[i + 1] == 0x85 { return nil }
            if b == 0xE2 && i + 2 < inner.endIndex && inner[i + 1] == 0x80
                && (inner[i + 2] == 0xA8 || inner[i + 2] == 0xA9)
            {
                return nil
            }
        }
        return String(decoding: inner, as: UTF8.self)
    }

    /// `    name: hex` of a digests section, on the bytes: the name as written (up to the first
    /// colon) and the lower-case hex digits after `: `; nil for any other line.
    private static func digestLine(_ line: String) -> (written: String, hex: String)? {
        let u = Array(line.utf8)
        guard u.count > 4, u[0..<4].allSatisfy({ $0 == 0x20 }), let colon = u.firstIndex(of: 0x3A),
            colon + 2 < u.count, u[colon + 1] == 0x20,
            u[(colon + 2)...].allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else { return nil }
        return (String(decoding: u[4..<colon], as: UTF8.self), String(decoding: u[(colon + 2)...], as: UTF8.self))
    }

    /// The items of `[a, b, c]` (plain numbers or words, no quotes or nesting), split on the
    /// bytes: the separator is exactly ", ".
    private static func rowItems(_ text: Substring) -> [Substring]? {
        let u = text.utf8
        guard u.count >= 3, u.first == 0x5B, u.last == 0x5D else { return nil }  // [ ]
        var items: [Substring] = []
        var start = u.index(after: u.startIndex)
        var i = start
        let end = u.index(before: u.endIndex)
        while i < end {
            let b = u[i]
            switch b {
            case 0x2C:  // ,
                let next = u.index(after: i)
                guard next < end, u[next] == 0x20, start < i else { return nil }
                items.append(Substring(u[start..<i]))
                start = u.index(after: next)
                i = start
                continue
            case 0x5B, 0x5D, 0x20, 0x22, 0x27, 0x23, 0x7B, 0x7D, 0x3A: return nil  // [ ] space " ' # { } :
            default: break
            }
            i = u.index(after: i)
        }
        guard start < end else { return nil }
        items.append(Substring(u[start..<end]))
        return items
    }
}
