import Foundation
import RNNKernels
import Yams

/// Tolerances of a numeric comparison: pass where |actual − expected| ≤ abs + rel·|expected|
/// (NumPy's `allclose` rule).
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    /// The absolute part: |actual − expected| ≤ abs + rel·|expected|.
    public var abs: Double
    /// The relative part, scaled by |expected|.
    public var rel: Double

    /// A tolerance of `abs` + `rel`·|expected|.
    public init(abs: Double, rel: Double) {
        self.abs = abs
        self.rel = rel
    }

    /// Goldens of float64 outputs: only round-off differences between machines pass.
    public static let float64Default = Tolerance(abs: 1e-12, rel: 1e-9)
    /// Goldens of float32 outputs: a few units in the last place.
    public static let float32Default = Tolerance(abs: 1e-6, rel: 1e-5)

    /// `abs 1e-12, rel 1e-09`.
    public var description: String { "abs \(NumberText.format(abs)), rel \(NumberText.format(rel))" }
}

/// A value known independently of the kernel (a notebook's printout, a hand derivation, a
/// framework's output), with the tolerance its precision allows.
public struct Expectation: Sendable {
    /// The value the output must match.
    public var value: Value
    /// nil: the case's tolerance for this output.
    public var tolerance: Tolerance?
    /// Where the number comes from, if the entry says.
    public var source: String?
    /// Where the value is written in the case file.
    public var location: SourceLocation
}

/// One case file, loaded and checked against its kernel's declaration.
public struct Case: Sendable {
    /// The path under the cases root without `.yaml` (`exercises/ex1_rnn_update`).
    public var id: String
    /// The file as shown to the user.
    public var path: String
    /// The kernel the case runs, from the registry it was loaded with.
    public var kernel: any Kernel
    /// The case's `title:`.
    public var title: String?
    /// The case's `source:` (provenance, free text).
    public var source: String?
    /// The case's `tags:`.
    public var tags: [String]
    /// Every declared parameter: the case's values, and defaults for the rest.
    public var params: [String: ParamValue]
    /// The inputs by name, generators and files resolved to values.
    public var inputs: [String: Value]
    /// The extents bound to the symbols of the declared shapes.
    public var dims: [String: Int]
    /// The `expect:` values, in the order the file gives them.
    public var expectations: [(output: String, expectation: Expectation)]
    /// The golden comparison's tolerance, if the case sets one (else the dtype's default).
    public var tolerance: Tolerance?
    /// Per-output golden tolerances (`tolerance: {outputs: ...}`).
    public var outputTolerances: [String: Tolerance]
    /// A finite-difference check of the kernel's gradients, if the case asks for one.
    public var gradcheck: GradCheckRequest?
    /// Why the case is expected to fail, if it is (XFAIL/XPASS).
    public var xfail: String?
    /// Why the case is not run, if it is not (UNSUPPORTED).
    public var skip: String?
    /// The case's own time limit in seconds (`timeout:`), if it sets one.
    public var timeout: Double? = nil
    /// Where each top-level field, input, param and expectation is written.
    public var locations: [String: SourceLocation]
    /// The file's text, for errors that quote a line.
    public var text: SourceText
    /// SHA-256 of the kernel name, the parameters and the inputs, in canonical form.
    public var digest: String

    /// The tolerance a golden comparison of `output` uses.
    public func goldenTolerance(for output: String, dtype: DType) -> Tolerance {
        if let t = outputTolerances[output] { return t }
        if let t = tolerance { return t }
        return dtype == .float32 ? .float32Default : .float64Default
    }

    /// An error pointing at a field of this case (`input:x`, `param:activation`, `kernel`).
    public func error(_ message: String, at key: String) -> SpecError {
        let loc = locations[key] ?? locations["kernel"] ?? text.location(line: 1, column: 1)
        return SpecError(message, at: loc, snippet: text.snippet(line: loc.line, column: loc.column))
    }
}

extension String {
    /// Decodes UTF-8, or nil if the bytes are not valid UTF-8.
    /// A leading byte-order mark is dropped, as Foundation's `String(bytes:encoding:)` does
    /// (this is the standard library's validating decoder, several times faster).
    init?(validatingUTF8Data data: Data) {
        let body = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        guard let s = String(validating: body, as: UTF8.self) else { return nil }
        self = s
    }
}
