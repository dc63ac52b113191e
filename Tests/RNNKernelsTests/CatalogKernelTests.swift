import Foundation
import RNNKernels
import TestAssertions
import Testing

/// Hand-derived checks of the catalog kernels (sequences, counts and shapes, diagnostics, seeded draws
/// and sampling). Each generic helper runs in Float and in
/// Double; values are compared with Double references at a tolerance fitting the precision.
@Suite final class CatalogKernelTests {
    func tol<T: KernelScalar>(_: T.Type) -> Double { T.self == Float.self ? 2e-6 : 1e-12 }

    func assertClose<T: KernelScalar>(
        _ got: [T], _ want: [Double], _ what: String, abs: Double? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(got.count, want.count, "\(what): count", file: file, line: line)
        let t = abs ?? tol(T.self)
        for (g, w) in zip(got, want) {
            if w.isNaN { XCTAssertTrue(g.isNaN, "\(what): want NaN, got \(g)", file: file, line: line); continue }
            if w.isInfinite { XCTAssertEqual(Double(g), w, "\(what)", file: file, line: line); continue }
            XCTAssertEqual(
                Double(g), w, accuracy: t * Swift.max(1, Swift.abs(w)), "\(what) (\(T.self))", file: file, line: line)
        }
    }

    // MARK: rnn.sequence

    func sequenceScalar<T: KernelScalar>(_: T.Type) {
        // Seed 004 Q1: h_t = tanh(0.8 h_{t-1} + x_t) from 0.
        let cell = RecurrentCell<T>.elman(
            wxh: Tensor(shape: [1, 1], scalars: [1]), whh: Tensor(shape: [1, 1], scalars: [0.8]))
        let x = Tensor<T>(shape: [4, 1, 1], scalars: [1, 0.5, -0.25, 0])
        let r = runSequence(cell, x: x, h0: Tensor(zeros: [1, 1]))
        var h = 0.0, want: [Double] = []
        for xt in [1, 0.5, -0.25, 0] { h = Foundation.tanh(0.8 * h + xt); want.append(h) }
        assertClose(r.outputs.scalars, want, "h")
        assertClose(r.hLast.scalars, [want[3]], "h_last")
        XCTAssertEqual(r.outputs.shape, [4, 1, 1])
        // Reverse: the same recurrence on the reversed inputs, reported at the original positions.
        let rev = runSequence(cell, x: x, h0: Tensor(zeros: [1, 1]), direction: .reverse)
        h = 0; var wantRev = [Double](repeating: 0, count: 4)
        for (t, xt) in [1, 0.5, -0.25, 0].enumerated().reversed() { h = Foundation.tanh(0.8 * h + xt); wantRev[t] = h }
        assertClose(rev.outputs.scalars, wantRev, "reverse h")
        assertClose(rev.hLast.scalars, [wantRev[0]], "reverse h_last")
        // Bidirectional: [fwd; rev] per position.
        let bi = runStack([[cell, cell]], directions: [.forward, .reverse], x: x)
        XCTAssertEqual(bi.output.shape, [4, 1, 2])
        assertClose(bi.output.scalars, (0..<4).flatMap { [want[$0], wantRev[$0]] }, "bi h")
        assertClose(concatenatedLastAxis(bi.runs[0].map(\.hLast)).scalars, [want[3], wantRev[0]], "bi h_last")
        // T = 0: nothing happens, h_last = h0.
        let empty = runSequence(
            cell, x: Tensor<T>(shape: [0, 1, 1], scalars: []), h0: Tensor(shape: [1, 1], scalars: [0.5]))
        XCTAssertEqual(empty.outputs.shape, [0, 1, 1])
        assertClose(empty.hLast.scalars, [0.5], "empty h_last")
    }

    func sequenceSoftmax<T: KernelScalar>(_: T.Type) {
        // Seed 004 Q2: three steps with x = 0; y_1 = [tanh 1, -tanh 1].
        let cell = RecurrentCell<T>.elman(
            wxh: Tensor(shape: [2, 2], scalars: [1, 1, -1, 1]), whh: Tensor(shape: [2, 2], scalars: [1, 1, 0, 1]),
            bh: Tensor([1, 0]))
        let r = runSequence(cell, x: Tensor(zeros: [3, 1, 2]), h0: Tensor(zeros: [1, 2]))
        let (y, p) = affineSoftmax(r.outputs, weight: Tensor(shape: [2, 2], scalars: [1, -1, -1, 1]), bias: nil)
        let t1 = Foundation.tanh(1.0)
        assertClose(Array(y.scalars[0..<2]), [t1, -t1], "y_1")
        assertClose(
            Array(p.scalars[0..<2]), [1 / (1 + Foundation.exp(-2 * t1)), 1 / (1 + Foundation.exp(2 * t1))], "p_1")
        assertClose(
            p.scalars, [0.8210075, 0.1789925, 0.86822576, 0.13177424, 0.87208178, 0.12791822], "p",
            abs: T.self == Float.self ? 1e-6 : 5e-9)
    }

    @Test func testSequence() {
        sequenceScalar(Float.self); sequenceScalar(Double.self)
        sequenceSoftmax(Float.self); sequenceSoftmax(Double.self)
    }

    // MARK: counts, shapes, chunks

    @Test func testParameterCount() {
        // Seed 000 §2: W_xh 4x3 + W_hh 4x4 + b 4 = 32.
        XCTAssertEqual(parameterCount(cell: .rnn, inputSize: 3, hiddenSize: 4).total, 32)
        // LSTM 4·H(I+H) + 4H; GRU 3·H(I+H) + 3H; with I = 10, H = 20: 2480 and 1860.
        XCTAssertEqual(parameterCount(cell: .lstm, inputSize: 10, hiddenSize: 20).total, 2480)
        XCTAssertEqual(parameterCount(cell: .gru, inputSize: 10, hiddenSize: 20).total, 1860)
        // PyTorch nn.LSTM(10, 20, num_layers=2, bidirectional=True): layer 0 2·(4·20·30 + 2·80), layer 1 2·(4·20·60 + 2·80).
        let p = parameterCount(cell: .lstm, inputSize: 10, hiddenSize: 20, layers: 2, directions: 2, biasVectors: 2)
        XCTAssertEqual(p.perLayer, [5120, 9920])
        XCTAssertEqual(p.biases, 4 * 160)
    }

    @Test func testShapesAndChunks() {
        let s = recurrentShapes(batch: 2, steps: 6, hiddenSize: 4, directions: 2)
        XCTAssertEqual(s.output, [2, 6, 8])
        XCTAssertEqual(s.finalState, [2, 2, 4])
        XCTAssertNil(s.logits)
        XCTAssertEqual(recurrentShapes(batch: 3, steps: 5, hiddenSize: 8, vocabulary: 100).logits, [3, 5, 100])
        XCTAssertEqual(
            recurrentShapes(batch: 3, steps: 5, hiddenSize: 8, vocabulary: 100, task: .manyToOne).logits, [3, 100])
        XCTAssertEqual(
            recurrentShapes(batch: 3, steps: 5, hiddenSize: 8, layers: 2, batchFirst: false).output, [5, 3, 8])
        XCTAssertEqual(
            bpttChunks(length: 23, window: 6).map { [$0.start, $0.stop] }, [[0, 6], [6, 12], [12, 18], [18, 23]])
        XCTAssertTrue(bpttChunks(length: 0, window: 6).isEmpty)
        XCTAssertEqual(bpttChunks(length: 5, window: 10).map { [$0.start, $0.stop] }, [[0, 5]])
        XCTAssertEqual(
            bpttChunks(length: 5, window: 3, stride: 2).map { [$0.start, $0.stop] }, [[0, 3], [2, 5], [4, 5]])
    }

    // MARK: scales

    func scales<T: KernelScalar>(_: T.Type) {
        let r = repeatedScale(scales: [T(0.8), 1, 2], steps: 3)
        XCTAssertEqual(r.values.shape, [3, 3])
        assertClose(r.values.scalars, [0.8, 0.64, 0.512, 1, 1, 1, 2, 4, 8], "values")
        assertClose(repeatedScale(scales: [T(0.8)], steps: 10).last.scalars, [0.1073741824], "0.8^10")
        assertClose(repeatedScale(scales: [T(0.8)], steps: 0).last.scalars, [1], "K = 0")
        let d = memoryDecay(forget: [T(0.5), 1, 0], steps: 3)
        assertClose(d.remaining.scalars, [1, 0.5, 0.25, 1, 1, 1, 1, 0, 0], "remaining")
        assertClose(d.halfLife.scalars, [1, .infinity, 0], "half life")
        assertClose(d.timescale.scalars, [2, .infinity, 1], "timescale")
        // s_t = f s + (1 − f) with s_0 = 0 is 1 − f^t.
        let l = leakyMemory(forget: [T(0.5), 0.8], inputs: [T](repeating: 1, count: 3))
        assertClose(l.trajectories.scalars, [0.5, 0.75, 0.875, 0.2, 0.36, 0.488], "leaky")
        assertClose(l.last.scalars, [0.875, 0.488], "leaky last")
        assertClose(leakyMemory(forget: [T(0.5)], inputs: [], initial: [T(0.3)]).last.scalars, [0.3], "leaky T = 0")
        let p = sequenceProbability([T(0.8), 0.6, 0.5])
        assertClose([p.probability, p.logProbability], [0.24, Foundation.log(0.24)], "seq prob")
        let e = sequenceProbability([T]())
        assertClose([e.probability, e.logProbability], [1, 0], "empty seq prob")
        let lr = exponentialDecay(epochs: [T(0), 2, 4, 5], base: T(0.1), rate: T(0.96), steps: 4)
        assertClose(lr.rate, [0.1, 0.1 * Foundation.pow(0.96, 0.5), 0.096, 0.1 * Foundation.pow(0.96, 1.25)], "lr")
        assertClose(
            exponentialDecay(epochs: [T(3), 4, 9], base: T(1), rate: T(0.5), steps: 4, stepwise: true).rate,
            [1, 0.5, 0.25], "stepwise")
    }

    @Test func testScales() { scales(Float.self); scales(Double.self) }

    // MARK: attention, decoding, activations

    func attention<T: KernelScalar>(_: T.Type) {
        let enc = Tensor<T>(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
        // Seed 001 ex9: [0.2, 0.3, 0.5] @ enc = [0.7, 0.8].
        assertClose(
            attentionContext(weights: Tensor(shape: [1, 3], scalars: [0.2, 0.3, 0.5]), values: enc).scalars,
            [0.7, 0.8], "context")
        let q = Tensor<T>(shape: [1, 2], scalars: [1, 0])
        let r = dotAttention(query: q, keys: enc, values: enc)
        let e = Foundation.exp(1.0), z = 2 * e + 1
        assertClose(r.scores.scalars, [1, 0, 1], "scores")
        assertClose(r.weights.scalars, [e / z, 1 / z, e / z], "weights")
        assertClose(r.context.scalars, [2 * e / z, (1 + e) / z], "context")
        let masked = dotAttention(query: q, keys: enc, values: enc, mask: [1, 1, 0])
        assertClose(masked.weights.scalars, [e / (e + 1), 1 / (e + 1), 0], "masked")
        let none = dotAttention(query: q, keys: enc, values: enc, mask: [0, 0, 0])
        XCTAssertTrue(none.weights.scalars.allSatisfy(\.isNaN))
        // ±1000 scores do not overflow.
        let big = dotAttention(
            query: Tensor(shape: [1, 1], scalars: [1000]), keys: Tensor(shape: [2, 1], scalars: [1, -1]),
            values: Tensor(shape: [2, 1], scalars: [3, 5]))
        assertClose(big.weights.scalars, [1, 0], "overflow")
        assertClose(big.context.scalars, [3], "overflow context")
        let scaled = dotAttention(query: q, keys: enc, values: enc, scale: T(0.5))
        assertClose(scaled.scores.scalars, [0.5, 0, 0.5], "scaled")
    }

    func activations<T: KernelScalar>(_: T.Type) {
        let a = evaluateActivations([T(-1000), 0, 1000])
        assertClose(a.sigmoid.scalars, [0, 0.5, 1], "sigmoid")
        assertClose(a.sigmoidGrad.scalars, [0, 0.25, 0], "sigmoid'")
        assertClose(a.tanh.scalars, [-1, 0, 1], "tanh")
        assertClose(a.tanhGrad.scalars, [0, 1, 0], "tanh'")
        assertClose(a.relu.scalars, [0, 0, 1000], "relu")
        assertClose(a.reluGrad.scalars, [0, 0, 1], "relu'")
        assertClose(a.softmax.scalars, [0, 0, 1], "softmax")
        let b = evaluateActivations([T(0), T(Foundation.log(3.0))])
        assertClose(b.softmax.scalars, [0.25, 0.75], "softmax")
        assertClose(b.softmaxJacobian.scalars, [0.1875, -0.1875, -0.1875, 0.1875], "jacobian")
    }

    @Test func testAttentionAndActivations() {
        attention(Float.self); attention(Double.self)
        activations(Float.self); activations(Double.self)
    }

    @Test func testTeacherForcing() {
        let r = decoderInputs(gold: ["I", "like", "math", "<EOS>"], prediction: ["I", "like", "pizza", "<EOS>"])
        XCTAssertEqual(r.steps, [1, 2, 3])
        XCTAssertEqual(r.teacherForcing, ["I", "like", "math"])
        XCTAssertEqual(r.freeRunning, ["I", "like", "pizza"])
        XCTAssertEqual(r.differs, [false, false, true])
        let s = decoderInputs(gold: ["a"], prediction: ["b"], start: "<BOS>")
        XCTAssertEqual(s.steps, [0])
        XCTAssertEqual(s.teacherForcing, ["<BOS>"])
        XCTAssertTrue(decoderInputs(gold: [String](), prediction: []).steps.isEmpty)
    }

    // MARK: diagnostics

    func saturation<T: KernelScalar>(_: T.Type) {
        let g = gateSaturation([T(0.01), 0.5, 0.97, 0.2], low: T(0.05), high: T(0.95), bins: 2, range: (0, 1))
        assertClose([g.below, g.above, g.saturated], [0.25, 0.25, 0.5], "fractions")
        XCTAssertEqual(g.counts, [2, 2])  // 0.5 opens the second bin
        assertClose(g.edges.scalars, [0, 0.5, 1], "edges")
        // Data range (min, max) with the right edge in the last bin, as np.histogram.
        let d = gateSaturation([T(0), 1, 2, 3], low: 0, high: 1, bins: 3)
        XCTAssertEqual(d.counts, [1, 1, 2])
        let s = gateSaturation([T(-10), 0, 10], low: T(0.05), high: T(0.95), bins: 1, applySigmoid: true)
        assertClose(
            s.gates.scalars, [1 / (1 + Foundation.exp(10)), 0.5, 1 / (1 + Foundation.exp(-10))], "sigmoid applied")
        assertClose([s.saturated], [2.0 / 3], "saturated")
    }

    func jacobians<T: KernelScalar>(_: T.Type) {
        // Scalar RNN h_t = tanh(w h + x): ∂h_T/∂h_{T−k} = Π (1 − h²) w.
        let cell = RecurrentCell<T>.elman(
            wxh: Tensor(shape: [1, 1], scalars: [1]), whh: Tensor(shape: [1, 1], scalars: [0.8]))
        let xs: [Double] = [1, 0.5, -0.25]
        let r = elmanJacobianNorms(x: Tensor(shape: [3, 1], scalars: xs.map { T($0) }), h0: Tensor([0]), cell: cell)
        var h = 0.0, hs: [Double] = []
        for x in xs { h = Foundation.tanh(0.8 * h + x); hs.append(h) }
        var prod = 1.0, want: [Double] = []
        for t in stride(from: 2, through: 0, by: -1) { prod *= (1 - hs[t] * hs[t]) * 0.8; want.append(Swift.abs(prod)) }
        assertClose(r.norms.scalars, want, "scalar norms")
        // Spectral norm of diag(3, 4) W with W = I is 4; Frobenius 5.
        let d = RecurrentCell<T>.elman(
            wxh: Tensor(shape: [2, 1], scalars: [0, 0]), whh: Tensor(shape: [2, 2], scalars: [0.6, 0.8, -0.8, 0.6]),
            activation: .identity)
        let rot = elmanJacobianNorms(x: Tensor(zeros: [2, 1]), h0: Tensor([1, 0]), cell: d, norm: .spectral)
        assertClose(rot.norms.scalars, [1, 1], "rotation spectral")
        assertClose([spectralNorm([T(3), 0, 0, 4], rows: 2, columns: 2)], [4], "spectral")
        assertClose([spectralNorm([T(1), 2, 3, 4], rows: 2, columns: 2)], [5.464985704219043], "spectral general")
        let c = cellPathJacobianNorms(forgetGates: Tensor(shape: [2, 2], scalars: [0.5, 1, 0.5, 0.9]))
        assertClose(c.products.scalars, [0.5, 0.9, 0.25, 0.9], "cell products")
        assertClose(c.norms.scalars, [(0.25 + 0.81).squareRoot(), (0.0625 + 0.81).squareRoot()], "cell norms")
    }

    @Test func testDiagnostics() {
        saturation(Float.self); saturation(Double.self)
        jacobians(Float.self); jacobians(Double.self)
    }

    // MARK: seeded draws

    func draws<T: KernelScalar>(_: T.Type) {
        var s1 = SeededStream(seed: 7), s2 = SeededStream(seed: 7)
        let w: InitializedWeights<T> = initializeWeights(
            shape: [50, 40], fanIn: 50, fanOut: 40, scheme: .he, distribution: .normal, stream: &s1)
        let z = (0..<2000).map { _ in s2.nextNormal() * (2.0 / 50).squareRoot() }
        assertClose(w.weights.scalars, z, "same stream")
        assertClose([w.std], [0.2], "he std")
        XCTAssertEqual(Double(w.sampleStd), 0.2, accuracy: 0.01)
        var s3 = SeededStream(seed: 1)
        let x: InitializedWeights<T> = initializeWeights(
            shape: [3, 5], fanIn: 3, fanOut: 5, scheme: .xavier, distribution: .uniform, stream: &s3)
        assertClose([x.std, x.bound], [0.5, 0.75.squareRoot()], "xavier")
        XCTAssertTrue(x.weights.scalars.allSatisfy { Swift.abs(Double($0)) <= 0.75.squareRoot() })
    }

    func sampling<T: KernelScalar>(_: T.Type) {
        XCTAssertEqual(inverseCDF([T(0.2), 0.3, 0.5], T(0.0)), 0)
        XCTAssertEqual(inverseCDF([T(0.2), 0.3, 0.5], T(0.2)), 1)
        XCTAssertEqual(inverseCDF([T(0.2), 0.3, 0.5], T(0.99)), 2)
        XCTAssertEqual(inverseCDF([T(0.5), 0.5, 0], T(1)), 1)
        // Zero weights: uniform distribution over V = 4, so index = ⌊4u⌋.
        let cell = RecurrentCell<T>.elman(wxh: Tensor(zeros: [2, 4]), whh: Tensor(zeros: [2, 2]))
        var stream = SeededStream(seed: 3), copy = SeededStream(seed: 3)
        let r = sampleCharacters(
            cell: cell, why: Tensor(zeros: [4, 2]), h0: Tensor(zeros: [2]), seedIndex: 0, count: 5, stream: &stream)
        XCTAssertEqual(r.indices, (0..<5).map { _ in Int(4 * copy.nextUniform()) })
        assertClose(r.probabilities.scalars, [0.25, 0.25, 0.25, 0.25, 0.25], "uniform p")
    }

    @Test func testDraws() {
        draws(Float.self); draws(Double.self)
        sampling(Float.self); sampling(Double.self)
    }
}
