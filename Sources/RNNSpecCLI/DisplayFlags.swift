import ArgumentParser
import Foundation
import RNNSpec

/// `--color never|auto|always`.
enum ColorMode: String, ExpressibleByArgument, CaseIterable {
    case never, auto, always
}

/// How a run is shown: the executable owns the terminal, so it decides colour and the progress
/// line here and hands the decision to the library.
struct DisplayFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Colour the result kinds: never, auto (when standard output is a terminal and NO_COLOR is not set) or always.",
            valueName: "when"))
    var color: ColorMode = .auto

    /// Colour when asked, or (auto) on a terminal without a non-empty `NO_COLOR`; the progress
    /// line when standard error is a terminal and the text report is shown.
    func display(textReport: Bool, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> DisplayOptions
    {
        Self.display(color: color, textReport: textReport, environment: environment)
    }

    /// `display(textReport:)` without `--color`.
    static func defaultDisplay(textReport: Bool) -> DisplayOptions {
        display(color: .auto, textReport: textReport, environment: ProcessInfo.processInfo.environment)
    }

    static func display(color: ColorMode, textReport: Bool, environment: [String: String]) -> DisplayOptions {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let colored: Bool
        switch color {
        case .never: colored = false
        case .always: colored = true
        case .auto: colored = !noColor && isatty(STDOUT_FILENO) == 1 && environment["TERM"] != "dumb"
        }
        return DisplayOptions(color: colored && textReport, progress: textReport && isatty(STDERR_FILENO) == 1)
    }
}

/// `--max-mismatches N`.
struct MismatchFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "List at most this many differing elements per output (the count, the worst elements, the first step and the gates are always given).",
            valueName: "n"))
    var maxMismatches: Int = MismatchFlags.defaultMaxMismatches

    static let defaultMaxMismatches = ComparisonOptions().maxShown

    func validate() throws {
        if maxMismatches < 0 { throw ValidationError("--max-mismatches must be 0 or more") }
    }
}
