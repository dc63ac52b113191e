import CYaml
import Foundation
import RNNKernels
import Yams

extension NodeReader {
    /// The keys that name what a mapping value is: `{shape, data}` or a generator.
    static let generatorKeys = ["data", "eye", "zeros", "ones", "full", "range", "linspace", "random"]

    /// `{shape, data}` or one of the generators `eye`, `zeros`, `ones`, `full`, `range`,
    /// `linspace`, `random`.
    mutating func generated(_ node: Node, _ what: @autoclosure () -> String) throws -> Tensor<Double> {
        let entries = try mapping(node, what())
        // By index: copying an entry copies its nodes.
        func field(_ key: String) -> Node? {
            for i in entries.indices where entries[i].key == key { return entries[i].value }
            return nil
        }
        let generators = NodeReader.generatorKeys
        // The generator keys present, in `generators`' order.
        var present = [Bool](repeating: false, count: generators.count)
        for i in entries.indices {
            if let k = generators.firstIndex(of: entries[i].key) { present[k] = true }
        }
        let kinds = generators.indices.filter { present[$0] }.map { generators[$0] }
        guard kinds.count == 1 else {
            let message =
                kinds.isEmpty
                ? "\(what()): a mapping value must be {shape, data} or a generator: eye, zeros, ones, full, range, linspace or random"
                : "\(what()): give one of \(listPhrase(kinds, conjunction: "and")), not several"
            if kinds.isEmpty, let first = entries.first {
                let hint = didYouMean(first.key, in: generators)
                if !hint.isEmpty { throw error("\(what()): unknown field '\(first.key)'" + hint, at: first.keyNode) }
            }
            throw error(message, at: node)
        }
        let kind = kinds[0]
        switch kind {
        case "data":
            try checkKeys(entries, allowed: ["shape", "data"], in: "\(what()) {shape, data}")
            guard let shapeNode = field("shape") else {
                throw error("\(what()): {data} needs a shape: [...] beside it", at: node)
            }
            let shape = try self.shape(shapeNode, what())
            let dataNode = field("data")!
            let items =
                try packedList(dataNode).map { Leaves(packed: $0) }
                ?? Leaves(nodes: try list(dataNode, "\(what()) data"))
            let expected = try elementCount(shape, at: shapeNode, what())
            guard items.count == expected else {
                throw error(
                    "\(what()): shape \(shape.shapeText) needs \(expected) numbers but data has \(items.count)",
                    at: dataNode)
            }
            return Tensor(
                shape: shape,
                scalars: try items.map(self, NumberText.parseReal) { try real($0, "\(what()) data: an element") })
        case "eye":
            try checkKeys(entries, allowed: ["eye", "scale"], in: "\(what()) eye generator")
            let eyeNode = field("eye")!
            let dims: [Int]
            if case .sequence(let seq) = eyeNode {
                guard seq.count == 2 else { throw error("\(what()): eye takes N or [rows, columns]", at: eyeNode) }
                dims = try shape(eyeNode, what())
            } else {
                let n = try integer(eyeNode, "\(what()): eye")
                guard n >= 0 else { throw error("\(what()): eye needs a size ≥ 0", at: eyeNode) }
                let nodeShape = [n, n]
                let (p, overflow) = n.multipliedReportingOverflow(by: n)
                if overflow { throw error("\(what()): eye \(n) overflows the element count", at: eyeNode) }
                try reserve(p, at: eyeNode, what())
                dims = nodeShape
            }
            guard dims.count == 2 else { throw error("\(what()): eye takes N or [rows, columns]", at: eyeNode) }
            let scale = try field("scale").map { try real($0, "\(what()): scale") } ?? 1
            var t = Tensor<Double>(zeros: dims)
            for k in 0..<min(dims[0], dims[1]) { t[k, k] = scale }
            return t
        case "zeros", "ones":
            try checkKeys(entries, allowed: [kind], in: "\(what()) \(kind) generator")
            return Tensor(repeating: kind == "ones" ? 1 : 0, shape: try shape(field(kind)!, what()))
        case "full":
            try checkKeys(entries, allowed: ["full", "value"], in: "\(what()) full generator")
            guard let v = field("value") else { throw error("\(what()): full needs value: beside it", at: node) }
            return Tensor(repeating: try real(v, "\(what()): value"), shape: try shape(field("full")!, what()))
        case "range":
            // Like numpy.arange: range: N, or [start, stop] or [start, stop, step].
            try checkKeys(entries, allowed: ["range", "shape"], in: "\(what()) range generator")
            let rangeNode = field("range")!
            let args =
                isScalar(rangeNode)
                ? [0, try real(rangeNode, "\(what()): range")]
                : try list(rangeNode, "\(what()): range").map { try real($0, "\(what()): range") }
            guard (2...3).contains(args.count) else {
                throw error("\(what()): range takes N, [start, stop] or [start, stop, step]", at: rangeNode)
            }
            let step = args.count == 3 ? args[2] : 1
            guard step != 0, step.isFinite, args[0].isFinite, args[1].isFinite else {
                throw error("\(what()): range needs finite bounds and a non-zero step", at: rangeNode)
            }
            // (stop − start) / step may overflow to ±inf, or be negative or NaN: only a count in
            // 0...limit is converted to an integer.
            let countD = ((args[1] - args[0]) / step).rounded(.up)
            let count: Int
            if countD.isNaN || countD <= 0 {
                count = 0
            } else if countD <= Double(limits.maxElements), countD < 0x1p62 {
                count = Int(countD)
            } else {
                throw error(
                    "\(what()): range [\(args.map { NumberText.format($0) }.joined(separator: ", "))] needs \(NumberText.format(countD)) elements, over the limit of \(limits.maxElements) per case (raise it with --max-elements)",
                    at: rangeNode)
            }
            try reserve(count, at: rangeNode, what())
            let values = (0..<count).map { args[0] + Double($0) * step }
            return try reshaped(Tensor(values), field("shape"), what())
        case "linspace":
            try checkKeys(entries, allowed: ["linspace", "shape"], in: "\(what()) linspace generator")
            let lsNode = field("linspace")!
            let args = try list(lsNode, "\(what()): linspace")
            guard args.count == 3 else { throw error("\(what()): linspace takes [start, stop, count]", at: lsNode) }
            let a = try real(args[0], "\(what()): start"), b = try real(args[1], "\(what()): stop")
            guard a.isFinite, b.isFinite else {
                throw error("\(what()): linspace needs a finite start and stop", at: lsNode)
            }
            let n = try integer(args[2], "\(what()): count")
            guard n >= 0 else { throw error("\(what()): linspace count must be ≥ 0", at: args[2]) }
            try reserve(n, at: args[2], what())
            // numpy.linspace: start + k·step, and the last point exactly `stop`. (b − a) may
            // overflow for finite bounds of opposite signs near the largest double: refused.
            let step = n > 1 ? (b - a) / Double(n - 1) : 0
            guard step.isFinite else {
                throw error(
                    "\(what()): linspace from \(NumberText.format(a)) to \(NumberText.format(b)) overflows float64",
                    at: lsNode)
            }
            var values = (0..<n).map { a + Double($0) * step }
            if n > 1 { values[n - 1] = b }
            return try reshaped(Tensor(values), field("shape"), what())
        default:  // random
            try checkKeys(
                entries, allowed: ["random", "shape", "seed", "mean", "std", "low", "high"],
                in: "\(what()) random generator")
            let distNode = field("random")!
            let dist = try string(distNode, "\(what()): random")
            guard dist == "normal" || dist == "uniform" else {
                throw error("\(what()): random must be normal or uniform, found '\(dist)'", at: distNode)
            }
            guard let shapeNode = field("shape") else { throw error("\(what()): random needs shape: [...]", at: node) }
            guard let seedNode = field("seed") else {
                throw error("\(what()): random needs seed: N, so that the numbers are reproducible", at: node)
            }
            let shape = try self.shape(shapeNode, what())
            let seed = try integer(seedNode, "\(what()): seed")
            let allowedParams = dist == "normal" ? ["mean", "std"] : ["low", "high"]
            for i in entries.indices
            where ["mean", "std", "low", "high"].contains(entries[i].key) && !allowedParams.contains(entries[i].key) {
                let key = entries[i].key
                throw error(
                    "\(what()): \(key) goes with \(dist == "normal" ? "uniform" : "normal"); \(dist) takes \(listPhrase(allowedParams, conjunction: "and"))",
                    at: entries[i].keyNode)
            }
            let n = try elementCount(shape, at: shapeNode, what())
            // The distribution's parameters must be finite (a NaN or infinite mean, std or bound
            // gives no distribution); std ≥ 0, like numpy's scale.
            func parameter(_ key: String, default value: Double) throws -> Double {
                guard let node = field(key) else { return value }
                let v = try real(node, "\(what()): \(key)")
                guard v.isFinite else {
                    throw error("\(what()): \(key) must be finite, found \(NumberText.format(v))", at: node)
                }
                return v
            }
            var values: [Double]
            if dist == "normal" {
                let mean = try parameter("mean", default: 0)
                let std = try parameter("std", default: 1)
                guard std >= 0 else {
                    throw error("\(what()): std must be ≥ 0, found \(NumberText.format(std))", at: field("std")!)
                }
                values = NodeReader.randomValues(normal: true, count: n, seed: seed, mean, std)
            } else {
                let low = try parameter("low", default: 0)
                let high = try parameter("high", default: 1)
                guard (high - low).isFinite else {
                    throw error(
                        "\(what()): high − low (\(NumberText.format(high)) − \(NumberText.format(low))) overflows float64",
                        at: field("high") ?? node)
                }
                values = NodeReader.randomValues(normal: false, count: n, seed: seed, low, high)
            }
            // Finite parameters near the largest double can still overflow a value.
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw error(
                    "\(what()): random value \(bad) overflows float64 (\(NumberText.format(values[bad]))); use smaller parameters",
                    at: node)
            }
            return Tensor(shape: shape, scalars: values)
        }
    }

    /// A `random` generator's values, as both case readers make them: `count` draws of the seeded
    /// stream, `a + b·normal` (mean, std) or `a + (b − a)·uniform` (low, high).
    static func randomValues(normal: Bool, count: Int, seed: Int, _ a: Double, _ b: Double) -> [Double] {
        var rng = SeededStream(seed: UInt64(bitPattern: Int64(seed)))
        return normal
            ? (0..<count).map { _ in a + b * rng.nextNormal() }
            : (0..<count).map { _ in a + (b - a) * rng.nextUniform() }
    }

    /// The generator's values in `shape:`; they were counted against the limit once, when made.
    mutating func reshaped(_ t: Tensor<Double>, _ shapeNode: Node?, _ what: @autoclosure () -> String) throws -> Tensor<
        Double
    > {
        guard let shapeNode else { return t }
        let s = try shape(shapeNode, what(), reserve: false)
        let count = try elementCount(s, at: shapeNode, what())
        guard count == t.count else {
            throw error(
                "\(what()): shape \(s.shapeText) holds \(count) elements but the generator makes \(t.count)",
                at: shapeNode)
        }
        return t.reshaped(s)
    }
}
