/// A plot the HTML report draws from a kernel's outputs, declared with the kernel (`KernelSpec.plots`)
/// so that which kernel gets which plot is said in one place, next to its outputs.
public enum KernelPlot: Sendable, Equatable {
    /// Each named output over its last axis, one line per output (a 1-D output) or per row (a 2-D
    /// output, rows named by the input `rowsFrom` when given: `f = 0.8`), x counted from `firstX`.
    /// `logY`: log₁₀ y axis.
    case lines(
        title: String, outputs: [String], x: String, y: String, logY: Bool = false, rowsFrom: String? = nil,
        firstX: Int = 0)
    /// A histogram from an output of counts and one of bin edges, with the params named in
    /// `thresholds` drawn as vertical lines.
    case histogram(title: String, counts: String, edges: String, x: String, thresholds: [String] = [])
    /// A 1-D or 2-D output (or input, when no output has the name) as a heatmap (rows: the first axis).
    case heatmap(title: String, value: String, x: String, y: String)
    /// A sequence of states, [T, H] or [T, B, H] (the first batch row), one line per unit over t.
    case trajectories(title: String, output: String)
    /// The first step's distribution `probabilities[0]`, computed at the case's temperature param,
    /// redrawn at other temperatures from the same logits (log p · T, up to a constant).
    case temperatureSweep(title: String, probabilities: String, temperature: String, labelsFrom: String? = nil)
}
