import Foundation

/// How one output differs from what it was compared with: a value the reports render (text,
/// JSON, JUnit, HTML), never preformatted text.
///
/// For real tensors it holds how many elements are out of tolerance, the element with the
/// largest absolute and the one with the largest relative difference (each with the limit
/// |a − e| ≤ abs + rel·|e| allowed there), the first `ComparisonOptions.maxShown` differing
/// elements in row-major order, and, where the kernel declares them for the output, the first
/// time step that differs and the gate blocks that do.
public struct Mismatch: Sendable, Equatable {
    /// What the output was compared with.
    public enum Reference: String, Sendable, Codable { case golden, expect, gradcheck = "finite differences" }

    /// The output's name.
    public var output: String
    /// What the output was compared with.
    public var reference: Reference
    /// A difference that is not about element values (the shapes or kinds differ, the kernel did
    /// not produce the output): one sentence. nil when elements differ.
    public var problem: String?
    /// For an output that is a list of tensors: the item that differs (the first one).
    public var item: Int?
    /// The compared shape (the actual one when the shapes differ).
    public var shape: [Int]
    /// `float64`, `float32`, `integer`, `string` or `boolean`.
    public var dtype: String
    /// Elements out of tolerance, and elements compared.
    public var failing: Int
    /// Elements compared.
    public var total: Int
    /// The tolerance (real values; nil where values must be equal).
    public var tolerance: Tolerance?
    /// The differing element with the largest |actual − expected| (an unmatched NaN or infinity
    /// counts as infinitely far).
    public var worstAbs: ElementDifference?
    /// The differing element with the largest |actual − expected| / |expected|.
    public var worstRel: ElementDifference?
    /// The first differing elements in row-major order, at most `ComparisonOptions.maxShown`.
    public var elements: [ElementDifference]
    /// Where the reference value is written: the golden file and the line of the output, the
    /// `expect:` entry, or the case's `gradcheck:`.
    public var location: SourceLocation?
    /// For an output with a declared time axis: the first step that differs.
    public var time: TimeDivergence?
    /// For an output with declared gate blocks: each block that differs.
    public var gates: [GateDivergence]
    /// More of rnnspec's own explanation, line by line (a fast gradient check's directions).
    public var note: String?

    /// A mismatch with its counts; the element details are filled in by `Comparison`.
    public init(
        output: String, reference: Reference, problem: String?, shape: [Int] = [], dtype: String = "",
        failing: Int = 1, total: Int = 1
    ) {
        self.output = output
        self.reference = reference
        self.problem = problem
        self.shape = shape
        self.dtype = dtype
        self.failing = failing
        self.total = total
        self.elements = []
        self.gates = []
    }
}

/// One element that differs.
public struct ElementDifference: Sendable, Equatable {
    /// The element's index in the output (row-major).
    public var index: [Int]
    /// The values as text: real numbers in the shortest form that reads back in the output's
    /// precision (float32 values in float32's), YAML's `.nan`/`.inf`; integers, strings and
    /// booleans as written in a golden.
    public var actual: String
    /// The expected value, as text.
    public var expected: String
    /// For real values: the numbers (float32 values as float32's shortest decimal), |actual − expected|,
    /// that over |expected|, and the limit abs + rel·|expected| at this element. An unmatched NaN or
    /// infinity is infinitely far (`inf`); nil for values compared for equality.
    public var actualValue: Double?
    /// The expected value (real values only).
    public var expectedValue: Double?
    /// |actual − expected| (real values only).
    public var absDiff: Double?
    /// |actual − expected| / |expected| (real values only).
    public var relDiff: Double?
    /// abs + rel·|expected|, the difference allowed at this element.
    public var allowed: Double?
    /// For an output with declared gate blocks: the element's gate and its unit within the block.
    public var gate: String?
    /// The unit within the gate block.
    public var unit: Int?
    /// For an output with a declared time axis: the element's step.
    public var step: Int?
}

/// Where an output with a time axis starts to differ.
public struct TimeDivergence: Sendable, Equatable {
    /// The axis of the output that is time.
    public var axis: Int
    /// The first step (0-based) with an element out of tolerance; every step before it matches.
    public var firstStep: Int
    /// The number of steps.
    public var steps: Int
    /// How many steps have an element out of tolerance.
    public var differingSteps: Int
}

/// A gate block of an output with stacked gates that holds differing elements.
public struct GateDivergence: Sendable, Equatable {
    /// The gate's name in the framework's order (`f (forget)`).
    public var gate: String
    /// The block's position in the stacking order.
    public var block: Int
    /// Units (rows of the block) with a differing element, and the block's units.
    public var differingUnits: Int
    /// The units in the block.
    public var units: Int
    /// The first unit with a differing element.
    public var firstUnit: Int
}

/// How much of a mismatch the comparison keeps.
public struct ComparisonOptions: Sendable, Equatable {
    /// The differing elements listed (`--max-mismatches`).
    public var maxShown: Int = 10
    /// Keep at most `maxShown` differing elements.
    public init(maxShown: Int = 10) { self.maxShown = maxShown }
}

extension Mismatch {
    /// The number of differing elements and the tolerance, one line: `1 of 2 elements differ
    /// from the golden beyond abs 1e-12, rel 1e-09` (or the problem).
    public var summary: String {
        if let problem { return (item.map { "item \($0): " } ?? "") + problem }
        var text = item.map { "item \($0): " } ?? ""
        text +=
            "\(failing) of \(total) element\(total == 1 ? "" : "s") differ\(total == 1 ? "s" : "") from the \(reference.rawValue)"
        if let tolerance { text += " beyond \(tolerance)" }
        return text
    }

    /// One line for a JUnit `message` and the JSON report: the output, what differs, the first
    /// step that differs and the worst element (the user's strings as they are; each report escapes
    /// them its own way).
    public var headline: String {
        var text = "output '\(output)': \(summary)"
        if let time { text += "; first differs at t = \(time.firstStep) of \(time.steps)" }
        if let w = worstAbs {
            text += "; worst at \(w.index.shapeText): actual \(w.actual), expected \(w.expected)"
            if let d = w.absDiff, !d.isNaN { text += " (abs diff \(shortNumber(d)))" }
        }
        return text
    }

    /// The lines of the text report for this mismatch (without the header naming the output),
    /// each line rnnspec's own text with the user's strings escaped.
    public var lines: [String] {
        var out: [String] = []
        let at = location.map { "\($0): " } ?? ""
        let noteLines = note.map { $0.split(separator: "\n").map(String.init) } ?? []
        if problem != nil {
            out.append(at + summary.escapedForDisplay)
            return out + noteLines
        }
        out.append(at + "shape \(shape.shapeText) \(dtype): " + summary)
        if let time {
            var line = "first differs at t = \(time.firstStep) of \(time.steps) (axis \(time.axis))"
            if time.firstStep > 0 { line += "; steps 0–\(time.firstStep - 1) match" }
            if time.differingSteps > 1 { line += "; \(time.differingSteps) steps differ" }
            out.append(line)
        }
        if !gates.isEmpty {
            out.append(
                "gate blocks that differ: "
                    + gates.map { g in
                        "\(g.gate) (\(g.differingUnits) of \(g.units) unit\(g.units == 1 ? "" : "s"), first unit \(g.firstUnit))"
                    }.joined(separator: ", "))
        }
        func worst(_ what: String, _ e: ElementDifference) -> String {
            var line =
                "\(what) at \(e.index.shapeText)\(Mismatch.place(e)): actual \(e.actual.escapedForDisplay), expected \(e.expected.escapedForDisplay)"
            if let d = e.absDiff, let r = e.relDiff, !d.isNaN {
                line += ", abs diff \(shortNumber(d)), rel diff \(shortNumber(r))"
            }
            if let allowed = e.allowed { line += " (allowed \(shortNumber(allowed)))" }
            return line
        }
        if let a = worstAbs, let r = worstRel, a.index == r.index {
            out.append(worst("worst", a))
        } else {
            if let a = worstAbs { out.append(worst("worst abs", a)) }
            if let r = worstRel { out.append(worst("worst rel", r)) }
        }
        if failing > 1 || worstAbs == nil, !elements.isEmpty {
            out.append(
                elements.count < failing
                    ? "first \(elements.count) of \(failing) differing elements:" : "differing elements:")
            let real = elements.contains { $0.absDiff != nil }
            var rows = [["index", "actual", "expected"] + (real ? ["abs diff", "allowed"] : [])]
            for e in elements {
                // Values can be a case's strings: escaped before the columns are measured.
                var row = [
                    e.index.shapeText + Mismatch.place(e), e.actual.escapedForDisplay, e.expected.escapedForDisplay,
                ]
                if real { row += [e.absDiff.map(shortNumber) ?? "", e.allowed.map(shortNumber) ?? ""] }
                rows.append(row)
            }
            let widths = (0..<rows[0].count).map { k in rows.map { $0[k].count }.max() ?? 0 }
            for row in rows {
                out.append(
                    "  "
                        + row.enumerated().map { k, cell in
                            k == row.count - 1
                                ? cell : cell + String(repeating: " ", count: max(0, widths[k] - cell.count))
                        }.joined(separator: "  "))
            }
        }
        return out + noteLines
    }

    /// ` (t = 3, gate f (forget), unit 2)` for an element of an output with declared structure.
    static func place(_ e: ElementDifference) -> String {
        var parts: [String] = []
        if let step = e.step { parts.append("t = \(step)") }
        if let gate = e.gate, let unit = e.unit { parts.append("gate \(gate), unit \(unit)") }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }
}

/// A mismatch as the JSON report writes it: every field of `Mismatch`, snake_case.
struct MismatchEntry: Encodable {
    struct Element: Encodable {
        var index: [Int]
        var actual: JSONScalar, expected: JSONScalar
        var abs_diff: Double?, rel_diff: Double?, allowed: Double?
        var step: Int?, gate: String?, unit: Int?

        init(_ e: ElementDifference) {
            index = e.index
            actual = e.actualValue.map(JSONScalar.number) ?? .text(e.actual)
            expected = e.expectedValue.map(JSONScalar.number) ?? .text(e.expected)
            abs_diff = e.absDiff; rel_diff = e.relDiff; allowed = e.allowed
            step = e.step; gate = e.gate; unit = e.unit
        }
    }
    struct Time: Encodable { var axis: Int, first_step: Int, steps: Int, differing_steps: Int }
    struct Gate: Encodable { var gate: String, block: Int, differing_units: Int, units: Int, first_unit: Int }
    struct Location: Encodable { var file: String, line: Int, column: Int }
    struct Limit: Encodable { var abs: Double, rel: Double }

    var output: String, reference: String, problem: String?, item: Int?
    var shape: [Int], dtype: String, failing: Int, total: Int
    var tolerance: Limit?
    var worst_abs: Element?, worst_rel: Element?
    var elements: [Element]
    var location: Location?
    var time: Time?
    var gates: [Gate]
    var note: String?
    var headline: String

    init(_ m: Mismatch) {
        output = m.output; reference = m.reference.rawValue; problem = m.problem; item = m.item
        shape = m.shape; dtype = m.dtype; failing = m.failing; total = m.total
        tolerance = m.tolerance.map { Limit(abs: $0.abs, rel: $0.rel) }
        worst_abs = m.worstAbs.map(Element.init); worst_rel = m.worstRel.map(Element.init)
        elements = m.elements.map(Element.init)
        location = m.location.map { Location(file: $0.file, line: $0.line, column: $0.column) }
        time = m.time.map {
            Time(axis: $0.axis, first_step: $0.firstStep, steps: $0.steps, differing_steps: $0.differingSteps)
        }
        gates = m.gates.map {
            Gate(
                gate: $0.gate, block: $0.block, differing_units: $0.differingUnits, units: $0.units,
                first_unit: $0.firstUnit)
        }
        note = m.note
        headline = m.headline
    }
}

/// A JSON number, or a string for values compared as text (strings, integers, booleans).
enum JSONScalar: Encodable {
    case number(Double)
    case text(String)

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let x): try c.encode(x)
        case .text(let t): try c.encode(t)
        }
    }
}
