// Decoder inputs under teacher forcing and under free running.
//
// Shape legend: T target length; the decoder is fed at steps 1 … T−1 (or 0 … T−1 with a start token).

/// The decoder input at each step of a sequence-to-sequence decoder.
public struct DecoderInputs<Token: Equatable & Sendable>: Sendable {
    /// The step numbers t.
    public var steps: [Int]
    /// gold[t−1]: what teacher forcing feeds at step t.
    public var teacherForcing: [Token]
    /// prediction[t−1]: what free running (the model's own previous output) feeds at step t.
    public var freeRunning: [Token]
    /// Whether the two inputs differ at step t (exposure bias starts at the first true entry).
    public var differs: [Bool]

    /// Creates the result from its parts.
    @inlinable
    public init(steps: [Int], teacherForcing: [Token], freeRunning: [Token], differs: [Bool]) {
        self.steps = steps
        self.teacherForcing = teacherForcing
        self.freeRunning = freeRunning
        self.differs = differs
    }
}

/// Pairs each decoder step with its input under teacher forcing and under free running.
///
///     teacher(t) = gold[t−1]      free(t) = prediction[t−1]      t = 1 … T−1
///
/// With a start token the decoder is also fed at t = 0, with that token under both regimes,
/// and t runs 0 … T−1.
///
/// - Parameters:
///   - gold: the target sequence, [T].
///   - prediction: the model's outputs, [T] (same length).
///   - start: the start-of-sequence token, or nil to begin at step 1 as seed 000 does.
/// - Note: T = 0, or T = 1 without a start token, gives no steps.
@inlinable
public func decoderInputs<Token: Equatable & Sendable>(gold: [Token], prediction: [Token], start: Token? = nil)
    -> DecoderInputs<Token>
{
    precondition(gold.count == prediction.count, "decoderInputs: gold and prediction differ in length")
    var steps: [Int] = [], teacher: [Token] = [], free: [Token] = []
    if let start, !gold.isEmpty {
        steps.append(0); teacher.append(start); free.append(start)
    }
    for t in stride(from: 1, to: gold.count, by: 1) {
        steps.append(t)
        teacher.append(gold[t - 1])
        free.append(prediction[t - 1])
    }
    return DecoderInputs(
        steps: steps, teacherForcing: teacher, freeRunning: free,
        differs: zip(teacher, free).map { $0 != $1 })
}
