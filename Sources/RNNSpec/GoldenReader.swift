import Foundation
import RNNKernels
import Yams

extension Golden {
    // MARK: Reading

    /// Parses the bytes of a golden file: the size is checked against `limits.maxFileBytes`
    /// first, then the text must be UTF-8, then `parse(_:limits:)`.
    public static func parse(data: Data, path: String, limits: LoadLimits = LoadLimits()) throws -> Golden {
        try limits.checkFileBytes(data.count, file: path)
        guard let text = String(validatingUTF8Data: data) else {
            throw SpecError(
                "the golden file is not valid UTF-8 (corrupt?); `rnnspec regen` rewrites it",
                at: SourceLocation(file: path, line: 1, column: 1))
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
            throw SpecError(
                "the golden file is empty (truncated?); `rnnspec regen` rewrites it",
                at: source.location(line: 1, column: 1))
        }
        var reader = NodeReader(source: source, limits: limits)
        reader.packed = packed
        let fields = try reader.mapping(root, "a golden file")
        try reader.checkKeys(
            fields, allowed: ["format", "case", "kernel", "digest", "digests", "outputs"], in: "the golden file")
        func field(_ key: String) throws -> Node {
            guard let f = fields.first(where: { $0.key == key }) else {
                throw SpecError(
                    "the golden file has no '\(key):' (truncated or hand-edited?); `rnnspec regen` rewrites it",
                    at: source.location(line: 1, column: 1))
            }
            return f.value
        }
        let format = try reader.integer(try field("format"), "format")
        guard format <= formatVersion else {
            throw reader.error(
                "golden format \(format) is newer than this rnnspec reads (\(formatVersion)); update rnnspec or regenerate the golden",
                at: try field("format"))
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

    static func readValue(_ node: Node, _ reader: inout NodeReader, _ what: String) throws -> Value {
        let entries = try reader.mapping(node, what)
        func field(_ key: String) throws -> Node {
            guard let f = entries.first(where: { $0.key == key }) else {
                throw reader.error("\(what) has no '\(key):'", at: node)
            }
            return f.value
        }
        let type = try reader.string(try field("type"), "\(what) type")
        if type == "list" {
            try reader.checkKeys(entries, allowed: ["type", "items"], in: what)
            return .list(
                try reader.list(try field("items"), "\(what) items").enumerated().map { k, item in
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
            throw reader.error(
                "\(what) needs \(count) elements, over the limit of \(reader.limits.maxElements) per case (raise it with --max-elements)",
                at: shapeNode)
        }
        let valueNode = try field("value")
        let (found, leaves) = try reader.nested(valueNode, what)
        guard found == shape || (count == 0 && leaves.count == 0) else {
            throw reader.error(
                "\(what): value has shape \(found.shapeText) but the golden says \(shape.shapeText)", at: valueNode)
        }
        switch type {
        case "real":
            let dtypeText = try reader.string(try field("dtype"), "\(what) dtype")
            guard let dtype = DType(rawValue: dtypeText) else {
                throw reader.error("\(what): unknown dtype '\(dtypeText)'", at: try field("dtype"))
            }
            // float32 values are read in single precision, as they were written.
            var scalars = try leaves.map(reader, NumberText.parseReal) { try reader.real($0, what) }
            if dtype == .float32 { for i in scalars.indices { scalars[i] = Double(Float(scalars[i])) } }
            return .real(RealTensor(Tensor(shape: shape, scalars: scalars), dtype: dtype))
        case "integer":
            return .integer(
                Tensor(
                    shape: shape,
                    scalars: try leaves.map(reader, NumberText.parseInteger) { try reader.integer($0, what) }))
        case "string":
            return .string(
                Tensor(shape: shape, scalars: try leaves.map(reader, { $0 }) { try reader.string($0, what) }))
        case "boolean":
            return .boolean(
                Tensor(
                    shape: shape,
                    scalars: try leaves.map(reader, NumberText.parseBoolean) { try reader.boolean($0, what) }))
        default:
            throw reader.error(
                "\(what): unknown type '\(type)' (real, integer, string, boolean or list)", at: try field("type"))
        }
    }
}
