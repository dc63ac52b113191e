/// What a run produced for one case, kept on its `CaseResult` when `RunOptions.keepArtifacts` is set
/// (the HTML report draws from it): the loaded case, the outputs and finite differences that came back
/// from the kernel (from a worker process, or from this one), and the golden they were compared with.
/// A case that crashed, timed out or was rejected has the case and no outputs; one that could not be
/// loaded has no artifacts.
public struct CaseArtifacts: Sendable {
    /// The loaded case.
    public var `case`: Case
    /// The outputs the kernel produced, or nil when it produced none.
    public var outputs: KernelOutputs?
    /// The gradcheck's analytic gradients next to their finite differences.
    public var gradients: [GradientPair] = []
    /// A fast gradcheck's directional differences.
    public var directional: [Double] = []
    /// The golden the outputs were compared with, when there was one.
    public var golden: Golden?

    /// The artifacts of one case.
    public init(case c: Case, outputs: KernelOutputs? = nil, gradients: [GradientPair] = [], golden: Golden? = nil) {
        self.case = c
        self.outputs = outputs
        self.gradients = gradients
        self.golden = golden
    }
}
