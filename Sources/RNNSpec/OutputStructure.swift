import Foundation
import RNNKernels

/// Which axis of an output has a meaning (time, stacked gate blocks), as a kernel declares it:
/// a list of choices, the first whose conditions hold for the case's params and the output's rank
/// wins; no choice, or a choice with no axis, means the output has no such axis.
public struct AxisRule: Sendable, CustomStringConvertible {
    /// One alternative: the axis, for outputs of this rank, when the param has one of these values.
    public struct Choice: Sendable {
        /// The axis (negative: counted from the end); nil: none under these conditions.
        public var axis: Int?
        /// Only for an output of this rank.
        public var rank: Int?
        /// Only when this param has one of these values.
        public var param: String?
        /// The param values the choice applies to (any when empty).
        public var values: [ParamValue]

        /// An alternative: `axis` (nil: none) for rank `rank`, when `param` is one of `values`.
        public init(axis: Int?, rank: Int? = nil, when param: String? = nil, is values: [ParamValue] = []) {
            self.axis = axis
            self.rank = rank
            self.param = param
            self.values = values
        }
    }

    /// The alternatives, the first that applies wins.
    public var choices: [Choice]

    /// A rule from its alternatives.
    public init(_ choices: [Choice]) { self.choices = choices }

    /// Always this axis.
    public static func axis(_ k: Int) -> AxisRule { AxisRule([Choice(axis: k)]) }

    /// The axis for these params and this rank (0-based, within the rank), or nil.
    public func resolve(params: [String: ParamValue], rank: Int) -> Int? {
        for c in choices {
            if let r = c.rank, r != rank { continue }
            if let p = c.param, !c.values.contains(where: { $0 == params[p] }) { continue }
            guard let axis = c.axis else { return nil }
            let k = axis < 0 ? rank + axis : axis
            return (0..<rank).contains(k) ? k : nil
        }
        return nil
    }

    /// `axis 0`, `axis 1 when batch_first is true and rank 3, else axis 0`.
    public var description: String {
        choices.enumerated().map { n, c in
            var text = c.axis.map { $0 < 0 ? "the last axis" + ($0 == -1 ? "" : " \($0)") : "axis \($0)" } ?? "none"
            var conditions: [String] = []
            if let p = c.param { conditions.append("\(p) is \(c.values.map(\.description).joined(separator: " or "))") }
            if let r = c.rank { conditions.append("rank \(r)") }
            if !conditions.isEmpty {
                text += " when " + conditions.joined(separator: " and ")
            } else if n > 0 {
                text = "else " + text
            }
            return text
        }.joined(separator: ", ")
    }
}

/// Gate blocks stacked along one axis of an output (a weight gradient with 4·H rows in a
/// framework's gate order): the axis splits into `names.count` equal blocks, one per gate.
public struct GateBlocks: Sendable {
    /// The axis that holds the stacked blocks.
    public var axis: AxisRule
    /// The gates in stacking order, named as the framework names them (`i (input)`).
    public var names: [String]

    /// Gate blocks stacked along `axis`, named in order.
    public init(axis: AxisRule, names: [String]) {
        self.axis = axis
        self.names = names
    }

    /// A gate's name with its meaning: `f (forget)`, `c (cell candidate)` (the framework's letter).
    public static func name(_ gate: Gate, letter: String? = nil) -> String {
        let meaning: String
        switch gate {
        case .i: meaning = "input"
        case .f: meaning = "forget"
        case .g: meaning = "cell candidate"
        case .o: meaning = "output"
        case .z: meaning = "update"
        case .r: meaning = "reset"
        case .n: meaning = "candidate"
        case .a: meaning = "pre-activation"
        }
        return "\(letter ?? gate.rawValue) (\(meaning))"
    }

    /// The names of gates in this order, with the framework's letters when they differ from
    /// rnnspec's (ONNX and Keras call the LSTM candidate `c` and the GRU candidate `h`).
    public static func names(_ order: [Gate], letters: [String]? = nil) -> [String] {
        order.enumerated().map { k, gate in name(gate, letter: letters?[k]) }
    }
}

/// What a kernel declares about the axes of one output.
public struct OutputStructure: Sendable {
    /// The time axis: the report says at which step the output starts to differ.
    public var time: AxisRule?
    /// Stacked gate blocks: the report says which gate and unit differ.
    public var gates: GateBlocks?

    /// An output's time axis and gate blocks (none by default).
    public init(time: AxisRule? = nil, gates: GateBlocks? = nil) {
        self.time = time
        self.gates = gates
    }

    /// `time: axis 0; gate blocks along axis 0: i (input), f (forget), ...`, or nil when nothing is declared.
    public var description: String? {
        var parts: [String] = []
        if let time { parts.append("time \(time)") }
        if let gates { parts.append("gate blocks along \(gates.axis): " + gates.names.joined(separator: ", ")) }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// An output's structure resolved for one case: the axes as numbers.
public struct OutputLayout: Sendable, Equatable {
    /// The time axis, when the output has one.
    public var timeAxis: Int?
    /// The axis of the stacked gate blocks, when there are any.
    public var gateAxis: Int?
    /// The gate blocks' names, in order.
    public var gateNames: [String]

    /// A resolved layout.
    public init(timeAxis: Int? = nil, gateAxis: Int? = nil, gateNames: [String] = []) {
        self.timeAxis = timeAxis
        self.gateAxis = gateAxis
        self.gateNames = gateNames
    }
}

extension OutputSpec {
    /// The same output with a declared time axis.
    public func time(_ rule: AxisRule) -> OutputSpec {
        var copy = self
        copy.structure.time = rule
        return copy
    }

    /// The same output with declared gate blocks.
    public func gates(_ names: [String], along axis: AxisRule) -> OutputSpec {
        var copy = self
        copy.structure.gates = GateBlocks(axis: axis, names: names)
        return copy
    }

    /// The structure for a value of this shape under these params: axes that do not exist in the
    /// shape, or gate blocks that do not divide their axis evenly, are left out.
    public func layout(params: [String: ParamValue], shape: [Int]) -> OutputLayout {
        var layout = OutputLayout()
        layout.timeAxis = structure.time?.resolve(params: params, rank: shape.count)
        if let g = structure.gates, g.names.count > 1, let axis = g.axis.resolve(params: params, rank: shape.count),
            shape[axis] > 0, shape[axis] % g.names.count == 0
        {
            layout.gateAxis = axis
            layout.gateNames = g.names
        }
        return layout
    }
}

/// Collects, over the differing elements of one comparison, the steps and gate blocks they fall in.
struct StructureTracker {
    let layout: OutputLayout
    let shape: [Int]
    private var strides: [Int]
    private var firstStep: Int? = nil
    private var steps = Set<Int>()
    private var blockUnits: [Int: Set<Int>] = [:]

    init(_ layout: OutputLayout, shape: [Int]) {
        self.layout = layout
        self.shape = shape
        var s = [Int](repeating: 1, count: shape.count)
        for k in stride(from: shape.count - 2, through: 0, by: -1) { s[k] = s[k + 1] * shape[k + 1] }
        strides = s
    }

    private func component(_ k: Int, _ axis: Int) -> Int { (k / strides[axis]) % max(shape[axis], 1) }

    private var blockSize: Int? {
        guard let g = layout.gateAxis else { return nil }
        return shape[g] / layout.gateNames.count
    }

    /// Notes one differing element (flat index).
    mutating func record(_ k: Int) {
        if let t = layout.timeAxis {
            let step = component(k, t)
            if firstStep == nil || step < firstStep! { firstStep = step }
            steps.insert(step)
        }
        if let g = layout.gateAxis, let size = blockSize {
            let c = component(k, g)
            blockUnits[c / size, default: []].insert(c % size)
        }
    }

    /// The element's step, gate and unit.
    func annotate(_ d: inout ElementDifference) {
        if let t = layout.timeAxis { d.step = d.index[t] }
        if let g = layout.gateAxis, let size = blockSize {
            d.gate = layout.gateNames[d.index[g] / size]
            d.unit = d.index[g] % size
        }
    }

    func finish(into m: inout Mismatch) {
        if let t = layout.timeAxis, let firstStep {
            m.time = TimeDivergence(axis: t, firstStep: firstStep, steps: shape[t], differingSteps: steps.count)
        }
        if let size = blockSize {
            m.gates = blockUnits.keys.sorted().map { b in
                GateDivergence(
                    gate: layout.gateNames[b], block: b, differingUnits: blockUnits[b]!.count, units: size,
                    firstUnit: blockUnits[b]!.min()!)
            }
        }
    }
}
