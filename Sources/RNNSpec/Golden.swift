import Foundation
import RNNKernels
import Yams

/// YAML spellings that rnnspec writes itself.
enum YAMLText {
    /// A double-quoted YAML string with escapes.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                // Control characters, and the line breaks YAML 1.1 knows beyond \n and \r
                // (NEL, LS, PS), which would otherwise be folded into spaces.
                if u.value < 0x20 || u.value == 0x7F || u.value == 0x85 || u.value == 0x2028 || u.value == 0x2029 {
                    out += String(format: "\\u%04X", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A plain scalar when that reads back as the same string, else a quoted one.
    static func scalar(_ s: String) -> String {
        if let plain = isPlainASCII(s) { return plain ? s : quoted(s) }
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        guard let first = s.unicodeScalars.first, CharacterSet.letters.contains(first) || first == "_",
              s.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "_.-/".unicodeScalars.contains($0) }),
              !reserved.contains(s.lowercased()) else { return quoted(s) }
        return s
    }

    /// `scalar`'s test for ASCII text, without CharacterSet: whether `s` is written plain (a
    /// letter or `_`, then letters, digits and `_.-/`, not a reserved word); nil for non-ASCII text.
    static func isPlainASCII(_ s: String) -> Bool? {
        var s = s
        return s.withUTF8 { b -> Bool? in
            if b.contains(where: { $0 >= 0x80 }) { return nil }
            func isLetter(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
            guard let first = b.first, isLetter(first) || first == 0x5F else { return false }
            for c in b where !(isLetter(c) || (0x30...0x39).contains(c) || c == 0x5F || c == 0x2E || c == 0x2D || c == 0x2F) { return false }
            guard b.count <= 5 else { return true }
            let lower = String(decoding: b.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
            return !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(lower)
        }
    }
}

/// A golden file: what a case's kernel produced when it was last blessed.
public struct Golden: Sendable {
    /// The format this rnnspec writes (and the newest it reads): 2 adds `digests:`, a digest per
    /// input and per param; format 1 goldens (without it) still read.
    public static let formatVersion = 2

    /// The id of the case the golden belongs to.
    public var caseID: String
    /// The kernel that produced the outputs.
    public var kernel: String
    /// The SHA-256 of the case's kernel name, params and inputs when the golden was written: a case
    /// whose digest differs is STALE.
    public var digest: String
    /// A digest per param and per input (`CaseDigest.parts`), which tell a STALE golden's
    /// changed inputs and params by name; nil in a format 1 golden.
    public var parts: CaseDigest.Parts?
    /// The outputs, in the kernel's order.
    public var outputs: [(name: String, value: Value)]
    /// The 1-based line of each output's name in the file read (empty for a golden not read from a file).
    public var outputLines: [String: Int] = [:]

    /// A golden from its parts.
    public init(caseID: String, kernel: String, digest: String, parts: CaseDigest.Parts? = nil, outputs: [(name: String, value: Value)]) {
        self.caseID = caseID
        self.kernel = kernel
        self.digest = digest
        self.parts = parts
        self.outputs = outputs
    }

    /// The output called `name`, or nil.
    public func output(_ name: String) -> Value? { outputs.first { $0.name == name }?.value }

    // MARK: Writing

    /// The file's bytes: byte-stable (the same outputs always give the same text), numbers in
    /// their shortest round-trip form, one matrix row per line.
    public func serialized() -> String {
        // A case id with a line break (a file name can hold one) must not end the comment.
        let shownID = YAMLText.quoted(caseID) == "\"\(caseID)\"" ? caseID : YAMLText.quoted(caseID)
        var out = GoldenStore.headerPrefix + "\(GoldenStore.shellWord(shownID))\n"
        out += "format: \(parts == nil ? 1 : Golden.formatVersion)\n"
        out += "case: \(YAMLText.quoted(caseID))\n"
        out += "kernel: \(YAMLText.quoted(kernel))\n"
        out += "digest: \(digest)\n"
        if let parts {
            out += "digests:\n"
            for (key, entries) in [("params", parts.params), ("inputs", parts.inputs)] {
                if entries.isEmpty { out += "  \(key): {}\n"; continue }
                out += "  \(key):\n"
                for (name, d) in entries.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    out += "    \(YAMLText.scalar(name)): \(d)\n"
                }
            }
        }
        out += "outputs:\n"
        for (name, value) in outputs {
            out += "  \(YAMLText.scalar(name)):\n"
            Golden.write(value, indent: 4, into: &out)
        }
        return out
    }

    static func write(_ value: Value, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .real(let r):
            out += "\(pad)type: real\n\(pad)dtype: \(r.dtype.rawValue)\n"
            writeTensor(r.tensor.shape, r.tensor.scalars.map { NumberText.format($0, dtype: r.dtype) }, pad, &out)
        case .integer(let t):
            out += "\(pad)type: integer\n"
            writeTensor(t.shape, t.scalars.map(String.init), pad, &out)
        case .string(let t):
            out += "\(pad)type: string\n"
            writeTensor(t.shape, t.scalars.map(YAMLText.quoted), pad, &out)
        case .boolean(let t):
            out += "\(pad)type: boolean\n"
            writeTensor(t.shape, t.scalars.map { $0 ? "true" : "false" }, pad, &out)
        case .list(let items):
            out += "\(pad)type: list\n"
            if items.isEmpty { out += "\(pad)items: []\n"; return }
            out += "\(pad)items:\n"
            for item in items {
                var block = ""
                write(item, indent: indent + 2, into: &block)
                // Turn the first line's indentation into the list dash.
                let dashed = pad + "- " + block.dropFirst(indent + 2)
                out += dashed
            }
        }
    }

    static func writeTensor(_ shape: [Int], _ texts: [String], _ pad: String, _ out: inout String) {
        out += "\(pad)shape: \(shape.shapeText)\n"
        if shape.isEmpty { out += "\(pad)value: \(texts[0])\n"; return }
        if texts.isEmpty { out += "\(pad)value: []\n"; return }
        if shape.count == 1 { out += "\(pad)value: [\(texts.joined(separator: ", "))]\n"; return }
        out += "\(pad)value:\n"
        let rowLength = shape.last!
        let rows = texts.count / rowLength
        // The axes above the rows, innermost last; a new block opens at each boundary.
        let outer = Array(shape.dropLast())
        for row in 0..<rows {
            // How many leading axes start a new block at this row: count the trailing zeros
            // of the row index in mixed radix.
            var opening = 1
            var r = row
            for axis in stride(from: outer.count - 1, to: 0, by: -1) {
                if r % outer[axis] == 0 { opening += 1; r /= outer[axis] } else { break }
            }
            let depth = outer.count // dashes before the innermost row
            let leading = depth - opening
            let line = String(repeating: "  ", count: leading) + String(repeating: "- ", count: opening)
            out += pad + "  " + line + "[" + texts[(row * rowLength)..<((row + 1) * rowLength)].joined(separator: ", ") + "]\n"
        }
    }

    // MARK: Reading

    /// Parses the bytes of a golden file: the size is checked against `limits.maxFileBytes`
    /// first, then the text must be UTF-8, then `parse(_:limits:)`.
    public static func parse(data: Data, path: String, limits: LoadLimits = LoadLimits()) throws -> Golden {
        try limits.checkFileBytes(data.count, file: path)
        guard let text = String(validatingUTF8Data: data) else {
            throw SpecError("the golden file is not valid UTF-8 (corrupt?); `rnnspec regen` rewrites it", at: SourceLocation(file: path, line: 1, column: 1))
        }
        return try parse(SourceText(path: path, text: text), limits: limits)
    }

    /// Parses a golden file, pointing at the line of anything wrong with it.
    ///
    /// A golden obeys the same limits as a case: its size, the scalars counted before any YAML
    /// node is built, and the elements of its outputs (each declared shape is checked, with
    /// overflow-checked products, against the limit and against the values written, before
    /// anything is allocated for it).
    public static func parse(_ source: SourceText, limits: LoadLimits = LoadLimits()) throws -> Golden {
        try limits.checkFileBytes(source.text.utf8.count, file: source.path)
        // Goldens are written by rnnspec: read that exact layout directly, and leave anything
        // else (hand edits, truncation, older spellings, anything over a limit) to the YAML path
        // and its messages.
        if let golden = parseCanonical(source.text, limits: limits) { return golden }
        return try parseYAML(source, limits: limits)
    }

    /// Parses a golden file as YAML, pointing at the line of anything wrong with it.
    static func parseYAML(_ source: SourceText, limits: LoadLimits = LoadLimits()) throws -> Golden {
        let (composed, packed) = try NodeReader.composePacked(source, limits: limits)
        guard let root = composed else {
            throw SpecError("the golden file is empty (truncated?); `rnnspec regen` rewrites it", at: source.location(line: 1, column: 1))
        }
        var reader = NodeReader(source: source, limits: limits)
        reader.packed = packed
        let fields = try reader.mapping(root, "a golden file")
        try reader.checkKeys(fields, allowed: ["format", "case", "kernel", "digest", "digests", "outputs"], in: "the golden file")
        func field(_ key: String) throws -> Node {
            guard let f = fields.first(where: { $0.key == key }) else {
                throw SpecError("the golden file has no '\(key):' (truncated or hand-edited?); `rnnspec regen` rewrites it", at: source.location(line: 1, column: 1))
            }
            return f.value
        }
        let format = try reader.integer(try field("format"), "format")
        guard format <= formatVersion else {
            throw reader.error("golden format \(format) is newer than this rnnspec reads (\(formatVersion)); update rnnspec or regenerate the golden", at: try field("format"))
        }
        guard format >= 1 else { throw reader.error("unknown golden format \(format)", at: try field("format")) }
        let caseID = try reader.string(try field("case"), "case")
        let kernel = try reader.string(try field("kernel"), "kernel")
        let digest = try reader.string(try field("digest"), "digest")
        var parts: CaseDigest.Parts? = nil
        if let node = fields.first(where: { $0.key == "digests" })?.value {
            let groups = try reader.mapping(node, "digests")
            try reader.checkKeys(groups, allowed: ["params", "inputs"], in: "digests")
            var p = CaseDigest.Parts(params: [:], inputs: [:])
            for group in groups {
                for entry in try reader.mapping(group.value, "digests \(group.key)") {
                    let d = try reader.string(entry.value, "digest of '\(entry.key)'")
                    if group.key == "params" { p.params[entry.key] = d } else { p.inputs[entry.key] = d }
                }
            }
            parts = p
        }
        var outputs: [(String, Value)] = []
        var lines: [String: Int] = [:]
        for entry in try reader.mapping(try field("outputs"), "outputs") {
            outputs.append((entry.key, try readValue(entry.value, &reader, "output '\(entry.key)'")))
            lines[entry.key] = reader.location(entry.keyNode).line
        }
        var golden = Golden(caseID: caseID, kernel: kernel, digest: digest, parts: parts, outputs: outputs)
        golden.outputLines = lines
        return golden
    }

    /// Reads a golden in exactly the layout `serialized()` writes, with real, integer and boolean
    /// outputs; nil for anything else, which then goes through YAML. It gives the same `Golden`
    /// as the YAML path for every file it accepts, without building YAML nodes (the golden was
    /// the largest cost of running a small case).
    static func parseCanonical(_ text: String, limits: LoadLimits = LoadLimits()) -> Golden? {
        var elements = 0
        var text = text
        return text.withUTF8 { bytes -> Golden? in
            if bytes.contains(0x0D) || bytes.contains(0x5C) { return nil }   // CR, backslash (escapes)
            // YAML's other line breaks: NEL (C2 85), LS and PS (E2 80 A8/A9).
            for i in bytes.indices.dropLast() where (bytes[i] == 0xC2 && bytes[i + 1] == 0x85)
                || (bytes[i] == 0xE2 && bytes[i + 1] == 0x80 && i + 2 < bytes.count && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)) {
                return nil
            }
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard lines.count >= 7, lines.removeLast().isEmpty, lines[0].hasPrefix("# "), lines[1] == "format: 1" || lines[1] == "format: 2",
                  let caseID = quotedField(lines[2], "case"), let kernel = quotedField(lines[3], "kernel"),
                  lines[4].hasPrefix("digest: ") else { return nil }
            func isHex(_ t: Substring) -> Bool { !t.isEmpty && t.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) }
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
                    while k < lines.count, lines[k].hasPrefix("    "), let colon = lines[k].firstIndex(of: ":") {
                        let written = String(lines[k][lines[k].index(lines[k].startIndex, offsetBy: 4)..<colon])
                        let name = written.hasPrefix("\"") && written.hasSuffix("\"") && written.count >= 2 ? String(written.dropFirst().dropLast()) : written
                        let rest = lines[k][colon...]
                        guard rest.hasPrefix(": "), isHex(rest.dropFirst(2)), !name.isEmpty, YAMLText.scalar(name) == written else { return nil }
                        if key == "params" { p.params[name] = String(rest.dropFirst(2)) } else { p.inputs[name] = String(rest.dropFirst(2)) }
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
            while k < lines.count {
                // "  name:" then "    type: ...".
                let header = lines[k]
                let headerLine = k + 1
                guard header.hasPrefix("  "), header.hasSuffix(":"), k + 3 < lines.count else { return nil }
                // A name is plain, or quoted when it would read as something else (`"Y"`, a boolean in YAML 1.1).
                let written = String(header.dropFirst(2).dropLast())
                let name = written.hasPrefix("\"") && written.hasSuffix("\"") && written.count >= 2 ? String(written.dropFirst().dropLast()) : written
                guard !name.isEmpty, YAMLText.scalar(name) == written, !outputs.contains(where: { $0.name == name }) else { return nil }
                let type = lines[k + 1]
                k += 2
                var dtype: DType? = nil
                if type == "    type: real" {
                    switch lines[k] {
                    case "    dtype: float64": dtype = .float64
                    case "    dtype: float32": dtype = .float32
                    default: return nil
                    }
                    k += 1
                } else if type != "    type: integer" && type != "    type: boolean" {
                    return nil
                }
                guard k < lines.count, lines[k].hasPrefix("    shape: ["), lines[k].hasSuffix("]") else { return nil }
                let shapeText = lines[k].dropFirst(12).dropLast()
                var shape: [Int] = []
                if !shapeText.isEmpty {
                    for part in shapeText.split(separator: ",", omittingEmptySubsequences: false) {
                        let t = part.hasPrefix(" ") ? part.dropFirst() : part
                        guard let d = Int(t), d >= 0, String(d) == t else { return nil }
                        shape.append(d)
                    }
                }
                guard lines[k] == "    shape: \(shape.shapeText)" else { return nil }
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
                // The value: a scalar, one row, [] when empty, or one row per line below.
                var texts: [Substring] = []
                guard k < lines.count else { return nil }
                let valueLine = lines[k]
                if count == 0 {
                    guard valueLine == "    value: []" else { return nil }
                    k += 1
                } else if shape.isEmpty {
                    guard valueLine.hasPrefix("    value: ") else { return nil }
                    texts = [valueLine.dropFirst(11)]
                    k += 1
                } else if shape.count == 1 {
                    guard valueLine.hasPrefix("    value: ["), let row = rowItems(valueLine.dropFirst(11)) else { return nil }
                    texts = row
                    k += 1
                } else {
                    guard valueLine == "    value:" else { return nil }
                    k += 1
                    let rowLength = shape.last!, outer = Array(shape.dropLast())
                    texts.reserveCapacity(count)
                    for row in 0..<(count / rowLength) {
                        // The same dashes `writeTensor` puts before each row.
                        var opening = 1, r = row
                        for axis in stride(from: outer.count - 1, to: 0, by: -1) {
                            if r % outer[axis] == 0 { opening += 1; r /= outer[axis] } else { break }
                        }
                        let prefix = "      " + String(repeating: "  ", count: outer.count - opening) + String(repeating: "- ", count: opening)
                        guard k < lines.count, lines[k].hasPrefix(prefix),
                              let items = rowItems(lines[k].dropFirst(prefix.count)), items.count == rowLength else { return nil }
                        texts += items
                        k += 1
                    }
                }
                guard texts.count == count else { return nil }
                let value: Value
                if let dtype {
                    var scalars: [Double] = []
                    scalars.reserveCapacity(count)
                    for t in texts {
                        guard let v = NumberText.parseReal(String(t)) else { return nil }
                        scalars.append(dtype == .float32 ? Double(Float(v)) : v)
                    }
                    value = .real(RealTensor(Tensor(shape: shape, scalars: scalars), dtype: dtype))
                } else if type == "    type: integer" {
                    var scalars: [Int] = []
                    for t in texts { guard let v = NumberText.parseInteger(String(t)) else { return nil }; scalars.append(v) }
                    value = .integer(Tensor(shape: shape, scalars: scalars))
                } else {
                    var scalars: [Bool] = []
                    for t in texts {
                        switch t { case "true": scalars.append(true); case "false": scalars.append(false); default: return nil }
                    }
                    value = .boolean(Tensor(shape: shape, scalars: scalars))
                }
                outputs.append((name, value))
                outputLines[name] = headerLine
            }
            var golden = Golden(caseID: caseID, kernel: kernel, digest: digest, parts: parts, outputs: outputs)
            golden.outputLines = outputLines
            return golden
        }
    }

    /// `key: "text"` without escapes: the text.
    private static func quotedField(_ line: String, _ key: String) -> String? {
        let head = key + ": \""
        guard line.hasPrefix(head), line.hasSuffix("\""), line.utf8.count >= head.utf8.count + 1 else { return nil }
        let inner = line.dropFirst(head.count).dropLast()
        guard !inner.contains("\""), inner.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F && $0.value != 0x85 && $0.value != 0x2028 && $0.value != 0x2029 }) else { return nil }
        return String(inner)
    }

    /// The items of `[a, b, c]` (plain numbers or words, no quotes or nesting), split on the
    /// bytes: the separator is exactly ", ".
    private static func rowItems(_ text: Substring) -> [Substring]? {
        let u = text.utf8
        guard u.count >= 3, u.first == 0x5B, u.last == 0x5D else { return nil }   // [ ]
        var items: [Substring] = []
        var start = u.index(after: u.startIndex)
        var i = start
        let end = u.index(before: u.endIndex)
        while i < end {
            let b = u[i]
            switch b {
            case 0x2C:                                                             // ,
                let next = u.index(after: i)
                guard next < end, u[next] == 0x20, start < i else { return nil }
                items.append(Substring(u[start..<i]))
                start = u.index(after: next)
                i = start
                continue
            case 0x5B, 0x5D, 0x20, 0x22, 0x27, 0x23, 0x7B, 0x7D, 0x3A: return nil     // [ ] space " ' # { } :
            default: break
            }
            i = u.index(after: i)
        }
        guard start < end else { return nil }
        items.append(Substring(u[start..<end]))
        return items
    }

    static func readValue(_ node: Node, _ reader: inout NodeReader, _ what: String) throws -> Value {
        let entries = try reader.mapping(node, what)
        func field(_ key: String) throws -> Node {
            guard let f = entries.first(where: { $0.key == key }) else { throw reader.error("\(what) has no '\(key):'", at: node) }
            return f.value
        }
        let type = try reader.string(try field("type"), "\(what) type")
        if type == "list" {
            try reader.checkKeys(entries, allowed: ["type", "items"], in: what)
            return .list(try reader.list(try field("items"), "\(what) items").enumerated().map { k, item in
                try readValue(item, &reader, "\(what) item \(k)")
            })
        }
        try reader.checkKeys(entries, allowed: ["type", "dtype", "shape", "value"], in: what)
        // The declared shape is checked (overflow, limit) but not counted: the values are,
        // as they are read, so each element counts once.
        let shapeNode = try field("shape")
        let shape = try reader.shape(shapeNode, what, reserve: false)
        let count = try reader.elementCount(shape, at: shapeNode, what)
        if count > reader.limits.maxElements {
            throw reader.error("\(what) needs \(count) elements, over the limit of \(reader.limits.maxElements) per case (raise it with --max-elements)", at: shapeNode)
        }
        let valueNode = try field("value")
        let (found, leaves) = try reader.nested(valueNode, what)
        guard found == shape || (count == 0 && leaves.count == 0) else {
            throw reader.error("\(what): value has shape \(found.shapeText) but the golden says \(shape.shapeText)", at: valueNode)
        }
        switch type {
        case "real":
            let dtypeText = try reader.string(try field("dtype"), "\(what) dtype")
            guard let dtype = DType(rawValue: dtypeText) else { throw reader.error("\(what): unknown dtype '\(dtypeText)'", at: try field("dtype")) }
            // float32 values are read in single precision, as they were written.
            var scalars = try leaves.map(reader, NumberText.parseReal) { try reader.real($0, what) }
            if dtype == .float32 { for i in scalars.indices { scalars[i] = Double(Float(scalars[i])) } }
            return .real(RealTensor(Tensor(shape: shape, scalars: scalars), dtype: dtype))
        case "integer":
            return .integer(Tensor(shape: shape, scalars: try leaves.map(reader, NumberText.parseInteger) { try reader.integer($0, what) }))
        case "string":
            return .string(Tensor(shape: shape, scalars: try leaves.map(reader, { $0 }) { try reader.string($0, what) }))
        case "boolean":
            return .boolean(Tensor(shape: shape, scalars: try leaves.map(reader, NumberText.parseBoolean) { try reader.boolean($0, what) }))
        default:
            throw reader.error("\(what): unknown type '\(type)' (real, integer, string, boolean or list)", at: try field("type"))
        }
    }
}

/// Reads and writes golden files under a root, atomically, through one confined layer
/// (`ConfinedDirectory`, no symbolic link followed under the root). This part deals in files
/// and bytes; `Golden.parse` turns the bytes into a golden.
public struct GoldenStore: Sendable {
    /// The golden root.
    public var root: URL
    /// How golden paths are shown.
    public var display: @Sendable (URL) -> String
    /// The cases root, when known: nothing is written or deleted while the golden root is it,
    /// holds it or lies inside it (a second line of defence behind `Project.validate`).
    public var casesRoot: URL?
    /// The limits a golden is read under: its size in bytes and its elements, as for a case.
    public var limits = LoadLimits()

    /// A store of the goldens under `root`.
    public init(root: URL, display: @escaping @Sendable (URL) -> String = { $0.path }, casesRoot: URL? = nil) {
        self.root = root
        self.display = display
        self.casesRoot = casesRoot
    }

    /// The first line of every golden rnnspec writes, up to the case id.
    public static let headerPrefix = "# Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen "

    /// A case id as one shell word, so that the header's `Regenerate:` command works when pasted:
    /// unchanged when it holds no character the shell treats specially, else in single quotes.
    /// (An id already YAML-quoted for a control character is left as it is.)
    static func shellWord(_ id: String) -> String {
        if id.hasPrefix("\"") { return id }
        let special = Set(" \t|&;()<>$`\\\"'*?[]#~{}!^".unicodeScalars)
        guard id.isEmpty || id.unicodeScalars.contains(where: special.contains) || id.hasPrefix("-") else { return id }
        return "'" + id.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The golden file of a case id.
    public func url(for id: String) -> URL {
        root.appendingPathComponent(id + ".yaml")
    }

    var directory: ConfinedDirectory {
        ConfinedDirectory(root: root, policy: .never, rootName: display(root))
    }

    func location(_ id: String) -> SourceLocation {
        SourceLocation(file: display(url(for: id)), line: 0, column: 0)
    }

    /// The golden of a case, nil if there is none; throws if it exists but cannot be read.
    public func read(_ id: String) throws -> Golden? {
        guard let data = try readBytes(id, maxBytes: limits.maxFileBytes) else { return nil }
        let path = display(url(for: id))
        guard let text = String(validatingUTF8Data: data) else {
            throw SourceText.invalidUTF8Error(data, path: path) { byte, offset in
                "the golden file is not valid UTF-8 (invalid byte 0x\(String(format: "%02X", byte)) at byte \(offset); corrupt?); `rnnspec regen` rewrites it"
            }
        }
        return try Golden.parse(SourceText(path: path, text: text), limits: limits)
    }

    /// The bytes of a case's golden, nil if there is none. A golden that is a symbolic link,
    /// or lies below one, is refused (the link is named, whatever it points to is not read);
    /// so is a directory, a FIFO or a device.
    public func readBytes(_ id: String, maxBytes: Int = Int.max) throws -> Data? {
        let relative = id + ".yaml"
        do {
            return try directory.read(relative, maxBytes: maxBytes)
        } catch let f as ConfinedDirectory.Failure {
            switch f.kind {
            case .notDirectory, .notFound: return nil      // no directory, so no golden
            case .isDirectory:
                throw SpecError("the golden path is a directory, not a file; move it away and `rnnspec regen` writes the golden", at: location(id))
            case .symbolicLink where f.path == relative:
                throw SpecError("the golden file is a symbolic link\(f.target.map { " (to \($0))" } ?? ""); rnnspec does not follow links under the golden root: remove it and `rnnspec regen` writes the golden", at: location(id))
            case .symbolicLink:
                throw SpecError("\(display(root.appendingPathComponent(f.path))) is a symbolic link\(f.target.map { " (to \($0))" } ?? ""); rnnspec does not follow links under the golden root, so the golden is not read through it", at: location(id))
            case .notRegular:
                throw SpecError("the golden path is \(f.detail ?? "not a regular file"), not a file; move it away and `rnnspec regen` writes the golden", at: location(id))
            case .tooLarge:
                try LoadLimits(maxFileBytes: maxBytes).checkFileBytes(fileSize(url(for: id).path) ?? maxBytes + 1, file: location(id).file)
                throw SpecError("the golden file is larger than \(maxBytes) bytes", at: location(id))
            case .outside, .exists, .system:
                throw SpecError("cannot read the golden file: \(f.message)", at: location(id))
            }
        }
    }

    /// What is at a case's golden path now: whether anything is there, and its bytes when it
    /// is a readable golden file.
    public func current(_ id: String) -> (exists: Bool, bytes: Data?) {
        do {
            let bytes = try readBytes(id)
            return (bytes != nil, bytes)
        } catch {
            return (true, nil)
        }
    }

    /// Refuses to write or delete while the golden root is confused with the cases root.
    func checkSeparateFromCases(_ id: String) throws {
        guard let casesRoot else { return }
        let g = realPath(root), c = realPath(casesRoot)
        if g == c || g.hasPrefix(c == "/" ? "/" : c + "/") || c.hasPrefix(g == "/" ? "/" : g + "/") {
            throw SpecError("the golden root \(display(root)) and the cases root \(display(casesRoot)) are the same directory or one holds the other; refusing to write or delete goldens there",
                            at: location(id))
        }
    }

    /// Writes a golden atomically: a temporary file in the same directory, flushed to disk,
    /// then renamed over the old one. A reader sees the old file or the new one, whole.
    /// Nothing is written outside the golden root: not through `..` in an id, nor through a
    /// symbolic link inside the root (links are never followed, nor replaced).
    public func write(_ golden: Golden) throws {
        let id = golden.caseID
        try checkSeparateFromCases(id)
        do {
            try directory.writeAtomically(id + ".yaml", Data(golden.serialized().utf8), replace: true, createRoot: true)
        } catch let f as ConfinedDirectory.Failure {
            let message: String
            switch f.kind {
            case .outside:
                message = "the golden's path resolves outside the golden root \(display(root)) (through '..' or a symbolic link); refusing to write it"
            case .symbolicLink:
                let shown = f.path == id + ".yaml" ? "the golden file" : display(root.appendingPathComponent(f.path))
                message = "cannot write the golden: \(shown) is a symbolic link\(f.target.map { " (to \($0))" } ?? ""); rnnspec neither follows nor replaces links under the golden root; nothing was written"
            case .notDirectory, .notFound:
                message = "cannot create the directory for the golden: \(f.message); nothing was written"
            case .isDirectory, .notRegular, .tooLarge, .exists, .system:
                message = "cannot write the golden: \(f.message); the old file is unchanged"
            }
            throw SpecError(message, at: location(id))
        }
    }

    /// Removes temporary files left beside a case's golden by writers that were killed
    /// (`.<name>.yaml.tmp-<pid>-<random>` whose process no longer exists). They are hidden and
    /// never read as goldens; this only keeps the directory tidy. A directory reached through
    /// a symbolic link is never entered.
    public func removeAbandonedTemporaries(_ id: String) {
        guard (try? checkSeparateFromCases(id)) != nil else { return }
        directory.removeAbandonedTemporaries(besides: id + ".yaml")
    }

    /// Every golden file under the root, as case ids (symbolic links named `*.yaml` included,
    /// so that they are reported; they are never followed), sorted by their bytes.
    public func allIDs() -> [String] {
        directory.walk().filter { $0.kind == .file || $0.kind == .symbolicLink }.map { String($0.path.dropLast(5)) }
    }

    /// Everything named `*.yaml` under the root, with what it is.
    func entries() -> [ConfinedDirectory.Found] { directory.walk() }

    /// Whether the first bytes of a file are those of a golden rnnspec wrote: its header line,
    /// then `format: N`.
    static func isWrittenByRNNSpec(_ head: Data) -> Bool {
        let bytes = [UInt8](head)
        let prefix = Array(headerPrefix.utf8)
        guard bytes.count > prefix.count, Array(bytes[0..<prefix.count]) == prefix,
              let firstBreak = bytes.firstIndex(of: 0x0A) else { return false }
        let second = bytes[(firstBreak + 1)...].prefix { $0 != 0x0A }
        let key = Array("format: ".utf8)
        guard second.count > key.count, second.count < 32, Array(second.prefix(key.count)) == key,
              second.dropFirst(key.count).allSatisfy({ (0x30...0x39).contains($0) }),
              bytes.count > firstBreak + 1 + second.count else { return false }
        return true
    }

    /// Deletes a case's golden if it is a regular file that rnnspec wrote (with `dryRun`, only
    /// says whether it would). Returns false, deleting nothing, for anything else.
    func removeIfWrittenByRNNSpec(_ id: String, dryRun: Bool) throws -> Bool {
        try checkSeparateFromCases(id)
        do {
            return try directory.removeFile(id + ".yaml", prefixBytes: 1 << 16, dryRun: dryRun, accept: GoldenStore.isWrittenByRNNSpec)
        } catch let f as ConfinedDirectory.Failure {
            throw SpecError("not deleted: \(f.message)", at: location(id))
        }
    }
}

/// Every `*.yaml` file below a directory (or the file itself), sorted, not following
/// hidden files.
///
/// Regular files and symbolic links are listed (a link pointing outside the root is then refused
/// loudly rather than skipped); hidden entries are skipped and directories reached through a
/// symbolic link are not entered. A direct `readdir` walk: Foundation's enumerator with
/// resource values cost more than reading the files.
func listYAML(under url: URL) -> [URL] {
    var st = stat()
    guard stat(url.path, &st) == 0 else { return [] }
    if (st.st_mode & S_IFMT) != S_IFDIR { return isCaseFileName(url.lastPathComponent) ? [url] : [] }
    var found: [String] = []
    func walk(_ dir: String) {
        guard let handle = opendir(dir) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix(".") { continue }
            let path = dir + "/" + name
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) {
                var s = stat()
                guard lstat(path, &s) == 0 else { continue }
                switch s.st_mode & S_IFMT {
                case S_IFDIR: type = Int32(DT_DIR)
                case S_IFREG: type = Int32(DT_REG)
                case S_IFLNK: type = Int32(DT_LNK)
                default: continue
                }
            }
            if type == Int32(DT_DIR) {
                walk(path)
            } else if (type == Int32(DT_REG) || type == Int32(DT_LNK)) && isCaseFileName(name) {
                found.append(path)
            }
        }
    }
    let root = url.path.hasSuffix("/") && url.path.count > 1 ? String(url.path.dropLast()) : url.path
    walk(root)
    return found.sorted().map { URL(fileURLWithPath: $0, isDirectory: false) }
}

/// The path of `file` under `root` without the `.yaml` extension.
func relativeID(of file: URL, under root: URL) -> String {
    let rootPath = standardizedPath(root)
    let filePath = standardizedPath(file)
    var rel = filePath.hasPrefix(rootPath + "/") ? String(filePath.dropFirst(rootPath.count + 1)) : file.lastPathComponent
    if rel.hasSuffix(".yaml") { rel.removeLast(5) } else if rel.hasSuffix(".yml") { rel.removeLast(4) }
    return rel
}

/// Whether a file name is a case file's: `*.yaml`, or `*.yml`.
func isCaseFileName(_ name: String) -> Bool {
    (name.hasSuffix(".yaml") && name.count > 5) || (name.hasSuffix(".yml") && name.count > 4)
}

/// The size of a file in bytes (without following a final link), nil when it cannot be read.
func fileSize(_ path: String) -> Int? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return Int(st.st_size)
}
