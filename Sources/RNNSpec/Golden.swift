import Foundation
import RNNKernels
import Yams

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
    public init(
        caseID: String, kernel: String, digest: String, parts: CaseDigest.Parts? = nil,
        outputs: [(name: String, value: Value)]
    ) {
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
            let depth = outer.count  // dashes before the innermost row
            let leading = depth - opening
            let line = String(repeating: "  ", count: leading) + String(repeating: "- ", count: opening)
            out +=
                pad + "  " + line + "[" + texts[(row * rowLength)..<((row + 1) * rowLength)].joined(separator: ", ")
                + "]\n"
        }
    }
}
