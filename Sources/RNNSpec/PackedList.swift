import CYaml
import Foundation
import RNNKernels
import Yams

/// A long flow list of plain scalars, kept as its items' text by the token pre-scan instead of
/// as Yams nodes (see `NodeReader.composePacked`).
final class PackedList: @unchecked Sendable {
    /// Lists shorter than this are left to Yams: the saving is in the long ones.
    static let minimumCount = 64

    /// The items' text, as Yams gives it for a plain scalar.
    let texts: [String]
    /// Byte offsets of the `[` and just after the `]`.
    let start: Int, end: Int
    /// 1-based line and column of the `[`.
    let line: Int, column: Int

    var key: Int { Self.key(line: line, column: column) }
    static func key(line: Int, column: Int) -> Int { line << 32 | column }

    struct Builder {
        var start: Int, line: Int, column: Int
        var texts: [String] = []
    }

    init(_ builder: Builder, end: Int) {
        texts = builder.texts
        start = builder.start
        self.end = end
        line = builder.line
        column = builder.column
    }
}

/// The scalar leaves of nested lists, in order: Yams nodes and packed lists.
struct Leaves {
    var nodes: [Node] = []
    /// Packed lists and the number of `nodes` before each.
    var packed: [(at: Int, list: PackedList)] = []
    private(set) var count = 0

    init() {}
    init(nodes: [Node]) { self.nodes = nodes; count = nodes.count }
    init(packed: PackedList) { self.packed = [(0, packed)]; count = packed.texts.count }

    mutating func append(contentsOf other: Leaves) {
        if !other.packed.isEmpty {
            let offset = nodes.count
            packed += other.packed.map { ($0.at + offset, $0.list) }
        }
        nodes += other.nodes
        count += other.count
    }

    /// Converts every leaf: a packed item with `fast` from its text, or through `slow` on its
    /// node (materialized, for the error it throws) when `fast` gives nil; a node with `slow`.
    func map<T>(_ reader: NodeReader, _ fast: (String) -> T?, _ slow: (Node) throws -> T) throws -> [T] {
        if packed.isEmpty { return try nodes.map(slow) }
        var out: [T] = []
        out.reserveCapacity(count)
        var n = 0
        for (at, list) in packed {
            while n < at { out.append(try slow(nodes[n])); n += 1 }
            for (k, text) in list.texts.enumerated() {
                if let v = fast(text) { out.append(v) } else { out.append(try slow(try reader.materialize(list)[k])) }
            }
        }
        while n < nodes.count { out.append(try slow(nodes[n])); n += 1 }
        return out
    }
}
