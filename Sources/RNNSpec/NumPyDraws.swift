import RNNKernels
import Yams

// A case's NumPy stream (`rng:`) and the inputs drawn from it (`{draw: ...}`).
//
//     rng: {numpy: default_rng, seed: 1}          # rng = np.random.default_rng(1)
//     rng: {numpy: legacy, seed: 42}              # np.random.seed(42)
//     inputs:
//       x:    {draw: normal, size: [5, 3]}        # X = rng.normal(size=(5, 3))
//       W_xh: {draw: normal, scale: 0.3, size: [4, 3]}
//
// Inputs are drawn from the one stream in the order they are written in the file, top to bottom
// (a list of tensors item by item); `rng: {..., discard: [draw, ...]}` makes, first, the draws an
// earlier notebook cell made from the same stream. See docs/numpy-data.md, "Drawing inputs as NumPy does".

/// The generator of a case's `rng:` field.
enum CaseNumPyGenerator {
    case generator(NumPyGenerator)
    case legacy(NumPyRandomState)

    var name: String {
        if case .generator = self { return "default_rng" } else { return "legacy" }
    }

    /// The methods a draw may name.
    var methods: [String] {
        switch self {
        case .generator: return ["random", "standard_normal", "normal", "uniform", "integers", "choice"]
        case .legacy:
            return ["rand", "random_sample", "randn", "standard_normal", "normal", "uniform", "randint", "choice"]
        }
    }
    static let integerMethods: Set<String> = ["integers", "randint", "choice"]
}

/// One draw: a NumPy method, its arguments and the size.
struct NumPyDrawRequest {
    var method: String
    var shape: [Int]
    var loc = 0.0, scale = 1.0, low = 0.0, high = 1.0
    var intLow: Int64 = 0, intHigh: Int64 = 0
    var p: [Double] = []
    var times: Double? = nil
}

extension NodeReader {
    static let drawFields = ["draw", "size", "loc", "scale", "low", "high", "p", "n", "times", "one_hot"]

    /// Whether a node is a `{draw: ...}` mapping.
    func isDraw(_ node: Node) -> Bool {
        guard case .mapping(let m) = node else { return false }
        return hasKey(m) { isKey($0, "draw") }
    }

    /// Whether a node is a draw or a list holding one (a list of tensors).
    func holdsDraw(_ node: Node) -> Bool {
        if isDraw(node) { return true }
        if case .sequence(let s) = node { return s.contains { isDraw($0) } }
        return false
    }

    /// `rng: {numpy: default_rng | legacy, seed: N, discard: [...]}`: the stream, with the
    /// discarded draws already made.
    mutating func numpyStream(_ node: Node) throws -> CaseNumPyGenerator {
        let entries = try mapping(node, "rng")
        try checkKeys(entries, allowed: ["numpy", "seed", "discard"], in: "rng")
        func field(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        guard let kindNode = field("numpy") else {
            throw error(
                "rng needs numpy: default_rng (np.random.default_rng(seed)) or numpy: legacy (np.random.seed(seed))",
                at: node)
        }
        guard let seedNode = field("seed") else { throw error("rng needs seed: N, the notebook's seed", at: node) }
        let kind = try string(kindNode, "rng: numpy")
        let seed = try integer(seedNode, "rng: seed")
        var gen: CaseNumPyGenerator
        switch kind {
        case "default_rng":
            guard seed >= 0 else { throw error("rng: seed must be ≥ 0 for default_rng, found \(seed)", at: seedNode) }
            gen = .generator(NumPyGenerator(seed: UInt64(seed)))
        case "legacy":
            guard seed >= 0, seed <= Int(UInt32.max) else {
                throw error("rng: seed must be between 0 and 2**32 - 1 for np.random.seed, found \(seed)", at: seedNode)
            }
            gen = .legacy(NumPyRandomState(seed: UInt32(seed)))
        default:
            throw error(
                "rng: numpy must be default_rng or legacy, found '\(kind)'"
                    + didYouMean(kind, in: ["default_rng", "legacy"]), at: kindNode)
        }
        if let discard = field("discard") {
            for (k, item) in try list(discard, "rng: discard").enumerated() {
                guard isDraw(item) else {
                    throw error("rng: discard[\(k)] must be a draw such as {draw: normal, size: [5, 3]}", at: item)
                }
                _ = try draw(item, integers: nil, stream: &gen, "rng: discard[\(k)]")
            }
        }
        return gen
    }

    /// Decodes `{draw: METHOD, size: ..., ...}` and draws it; `integers` says which kind the
    /// input holds (nil: either, for discarded draws).
    mutating func draw(
        _ node: Node, integers: Bool?, stream: inout CaseNumPyGenerator, _ what: @autoclosure () -> String
    ) throws -> Value {
        let entries = try mapping(node, what())
        try checkKeys(entries, allowed: Self.drawFields, in: "\(what()) draw")
        func field(_ key: String) -> Node? { entries.first { $0.key == key }?.value }
        let methodNode = field("draw")!
        let method = try string(methodNode, "\(what()): draw")
        guard stream.methods.contains(method) else {
            let hint = didYouMean(method, in: stream.methods)
            throw error(
                "\(what()): \(stream.name) has no method '\(method)'" + (hint.isEmpty ? " here" : hint)
                    + " (its methods: \(stream.methods.joined(separator: ", ")))", at: methodNode)
        }
        let isInteger = CaseNumPyGenerator.integerMethods.contains(method)
        // `one_hot: V` turns drawn ids into one-hot rows, np.eye(V)[ids]: real numbers.
        var oneHot: Int? = nil
        if let node = field("one_hot") {
            guard isInteger else {
                throw error(
                    "\(what()): one_hot: takes integer draws (integers, randint, choice), not '\(method)'", at: node)
            }
            let v = try integer(node, "\(what()): one_hot")
            guard v >= 1 else {
                throw error("\(what()): one_hot: must be ≥ 1 (the vocabulary size), found \(v)", at: node)
            }
            oneHot = v
        }
        let drawsIntegers = isInteger && oneHot == nil
        if let integers, integers != drawsIntegers {
            throw error(
                "\(what()) holds \(integers ? "integers" : "real numbers"), but '\(method)'\(oneHot != nil ? " with one_hot:" : "") draws \(drawsIntegers ? "integers" : "real numbers")\(!integers && isInteger ? "; one_hot: V makes one-hot rows of them" : "")",
                at: methodNode)
        }
        // Which arguments each method takes.
        let takes: [String]
        switch method {
        case "normal": takes = ["loc", "scale"]
        case "uniform": takes = ["low", "high"]
        case "integers", "randint": takes = ["low", "high"]
        case "choice": takes = ["n", "p"]
        default: takes = []
        }
        for (key, keyNode, _) in entries
        where !["draw", "size", "times", "one_hot"].contains(key) && !takes.contains(key) {
            throw error(
                "\(what()): '\(method)' takes \(takes.isEmpty ? "no arguments besides size" : listPhrase(takes, conjunction: "and")), not '\(key)'",
                at: keyNode)
        }
        var req = NumPyDrawRequest(method: method, shape: [])
        if let sizeNode = field("size") {
            if case .scalar = sizeNode {
                let n = try integer(sizeNode, "\(what()): size")
                guard n >= 0 else { throw error("\(what()): size \(n) is negative", at: sizeNode) }
                try reserve(n, at: sizeNode, what())
                req.shape = [n]
            } else {
                req.shape = try shape(sizeNode, what())
            }
        } else {
            try reserve(1, at: node, what())
        }
        if let n = field("loc") { req.loc = try real(n, "\(what()): loc") }
        if let n = field("scale") { req.scale = try real(n, "\(what()): scale") }
        if let n = field("times") { req.times = try real(n, "\(what()): times") }
        if method == "uniform" {
            if let n = field("low") { req.low = try real(n, "\(what()): low") }
            if let n = field("high") { req.high = try real(n, "\(what()): high") }
        }
        if method == "integers" || method == "randint" {
            guard let highNode = field("high") else {
                throw error("\(what()): '\(method)' needs high: N (exclusive)", at: node)
            }
            let lowNode = field("low")
            let low = try lowNode.map { try integer($0, "\(what()): low") } ?? 0
            let high = try integer(highNode, "\(what()): high")
            guard low < high else {
                throw error("\(what()): low >= high (\(low) >= \(high)); NumPy draws from [low, high)", at: highNode)
            }
            if let v = oneHot, low < 0 || high > v {
                throw error(
                    "\(what()): ids from [\(low), \(high)) do not fit one_hot: \(v) (np.eye(\(v)) has rows 0..<\(v))",
                    at: lowNode.map { low < 0 ? $0 : highNode } ?? highNode)
            }
            req.intLow = Int64(low)
            req.intHigh = Int64(high)
        }
        if method == "choice" {
            guard let nNode = field("n"), let pNode = field("p") else {
                throw error(
                    "\(what()): 'choice' needs n: N (choice(N) or choice(range(N))) and p: [...] (N probabilities)",
                    at: node)
            }
            let n = try integer(nNode, "\(what()): n")
            if let v = oneHot, n > v {
                throw error(
                    "\(what()): choice draws ids up to \(n - 1), outside one_hot: \(v) (ids must be < \(v))", at: nNode)
            }
            let p = try list(pNode, "\(what()): p")
            try reserve(p.count, at: pNode, what())
            req.p = try p.map { try real($0, "\(what()): p: an element") }
            guard n == req.p.count else {
                throw error(
                    "\(what()): 'a' and 'p' must have same size (n = \(n), \(req.p.count) probabilities)", at: pNode)
            }
            do { _ = try numpyChoiceCDF(req.p) } catch { throw self.error("\(what()): \(error)", at: pNode) }
        }
        let count = req.shape.reduce(1, *)
        if let v = oneHot {
            let (total, overflow) = count.multipliedReportingOverflow(by: v)
            guard !overflow else { throw error("\(what()): size × one_hot overflows", at: node) }
            try reserve(total, at: node, what())
        }
        do {
            if isInteger {
                var values = [Int]()
                values.reserveCapacity(count)
                switch stream {
                case .generator(var g):
                    if method == "choice" {
                        values = try g.choice(req.p.count, p: req.p, size: count)
                    } else {
                        for _ in 0..<count { values.append(Int(try g.integers(low: req.intLow, high: req.intHigh))) }
                    }
                    stream = .generator(g)
                case .legacy(var g):
                    if method == "choice" {
                        values = try g.choice(req.p.count, p: req.p, size: count)
                    } else {
                        for _ in 0..<count { values.append(Int(try g.randint(low: req.intLow, high: req.intHigh))) }
                    }
                    stream = .legacy(g)
                }
                if let v = oneHot {
                    var rows = [Double](repeating: 0, count: count * v)
                    for (k, id) in values.enumerated() { rows[k * v + id] = 1 }
                    if let t = req.times { for i in rows.indices { rows[i] *= t } }
                    return .real(RealTensor(Tensor(shape: req.shape + [v], scalars: rows)))
                }
                if req.times != nil { throw NumPyRandomError("times: multiplies real draws only") }
                return .integer(Tensor(shape: req.shape, scalars: values))
            }
            var values = [Double]()
            values.reserveCapacity(count)
            switch stream {
            case .generator(var g):
                for _ in 0..<count {
                    switch method {
                    case "random": values.append(g.random())
                    case "standard_normal": values.append(g.standardNormal())
                    case "normal": values.append(g.normal(loc: req.loc, scale: req.scale))
                    default: values.append(g.uniform(low: req.low, high: req.high))
                    }
                }
                stream = .generator(g)
            case .legacy(var g):
                for _ in 0..<count {
                    switch method {
                    case "rand", "random_sample": values.append(g.randomSample())
                    case "randn", "standard_normal": values.append(g.standardNormal())
                    case "normal": values.append(g.normal(loc: req.loc, scale: req.scale))
                    default: values.append(g.uniform(low: req.low, high: req.high))
                    }
                }
                stream = .legacy(g)
            }
            if let t = req.times { for i in values.indices { values[i] *= t } }
            return .real(RealTensor(Tensor(shape: req.shape, scalars: values)))
        } catch let e as NumPyRandomError {
            throw error("\(what()): \(e.description)", at: node)
        }
    }

    /// An input written with draws: one draw, or a list of tensors some of whose items are draws.
    mutating func drawnValue(
        _ node: Node, kind: ValueKind, stream: inout CaseNumPyGenerator?, _ what: @autoclosure () -> String
    ) throws
        -> Value
    {
        guard var gen = stream else {
            throw error(
                "\(what()) draws from NumPy, but the case has no rng: add rng: {numpy: default_rng, seed: N} (or numpy: legacy) at the top",
                at: node)
        }
        defer { stream = gen }
        switch kind {
        case .real, .integer:
            guard isDraw(node) else {
                throw error("\(what()): a draw is written {draw: METHOD, size: [...]}", at: node)
            }
            return try draw(node, integers: kind == .integer, stream: &gen, what())
        case .realList:
            guard case .sequence(let seq) = node else {
                return .list([try draw(node, integers: false, stream: &gen, what())])
            }
            var items = [Value]()
            for (k, item) in seq.enumerated() {
                if isDraw(item) {
                    items.append(try draw(item, integers: false, stream: &gen, "\(what())[\(k)]"))
                } else {
                    items.append(.real(RealTensor(try realTensor(item, "\(what())[\(k)]"))))
                }
            }
            return .list(items)
        case .string, .boolean:
            throw error(
                "\(what()) holds \(kind == .string ? "strings" : "booleans"); NumPy draws give numbers", at: node)
        }
    }
}
