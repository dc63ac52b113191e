import Foundation
import TestAssertions
import Testing

@testable import RNNKernels

/// The training loop of the article's character RNN (`trainCharRNN`), checked against its parts done by hand.
@Suite final class CharRNNTrainingTests {
    let text = "hello world, hello moon\n"

    func data() -> (indices: [Int], v: Int) {
        let vocab = sortedVocabulary(text)
        guard case .success(let d) = characterIndices(text, vocab: vocab) else { fatalError("vocab") }
        return (d, vocab.count)
    }

    @Test func testVocabularyIsSortedDistinctScalarsAndUnknownCharactersAreNamed() {
        XCTAssertEqual(
            sortedVocabulary("hello world, hello moon\n"),
            ["\n", " ", ",", "d", "e", "h", "l", "m", "n", "o", "r", "w"])
        // Unicode scalars, as Python iterates a str
        XCTAssertEqual(sortedVocabulary("é\u{301}a"), ["a", "é", "\u{301}"])
        XCTAssertEqual(characterIndices("abca", vocab: ["c", "b", "a"]), .success([2, 1, 0, 2]))
        XCTAssertEqual(
            characterIndices("abxa", vocab: ["a", "b"]), .failure(CharacterNotInVocabulary(character: "x", position: 2))
        )
    }

    /// The gradients the loop uses are the loss's: central differences of the loss with a carried-in state.
    @Test func testChunkGradientsMatchFiniteDifferences() {
        let (d, v) = data()
        let w = CharRNNWeights<Double>(articleInitVocabSize: v, hiddenSize: 6, seed: 3)
        var scaled = w
        for k in scaled.whh.scalars.indices { scaled.whh.scalars[k] *= 50 }  // away from the tiny-weight regime
        for k in scaled.wxh.scalars.indices { scaled.wxh.scalars[k] *= 50 }
        for k in scaled.why.scalars.indices { scaled.why.scalars[k] *= 50 }
        let h0 = Tensor<Double>((0..<6).map { 0.1 * Double($0) - 0.2 })
        let inputs = Array(d[0..<7]), targets = Array(d[1..<8])
        let r = charRNNLossAndGradients(scaled, inputs: inputs, targets: targets, hPrev: h0)
        let eps = 1e-6
        for j in 0..<5 {
            for i in [0, scaled.tensors[j].count / 2, scaled.tensors[j].count - 1] {
                var plus = scaled.tensors, minus = scaled.tensors
                plus[j].scalars[i] += eps
                minus[j].scalars[i] -= eps
                let lp = charRNNLossAndGradients(CharRNNWeights(plus), inputs: inputs, targets: targets, hPrev: h0).loss
                let lm = charRNNLossAndGradients(CharRNNWeights(minus), inputs: inputs, targets: targets, hPrev: h0)
                    .loss
                XCTAssertEqual(r.grads[j].scalars[i], (lp - lm) / (2 * eps), accuracy: 1e-7, "tensor \(j) element \(i)")
            }
        }
    }

    /// One SGD step is W − lr · dW with the chunk's gradients, and a second step starts from the carried state.
    @Test func testSGDStepsApplyTheChunkGradientsAndCarryTheState() {
        let (d, v) = data()
        let w0 = CharRNNWeights<Double>(articleInitVocabSize: v, hiddenSize: 8, seed: 42)
        let config = CharRNNTrainingConfig<Double>(seqLength: 5, iterations: 2, optimizer: .sgd, baseLR: 0.3)
        let r = trainCharRNN(data: d, initial: w0, config: config)
        // By hand: chunk 0 from h = 0, then chunk 1 (characters 5..<10) from the state chunk 0 ended in.
        let s0 = charRNNLossAndGradients(
            w0, inputs: Array(d[0..<5]), targets: Array(d[1..<6]), hPrev: Tensor(zeros: [8]))
        let w1 = CharRNNWeights(
            zip(w0.tensors, s0.grads).map { w, g in
                Tensor(shape: w.shape, scalars: zip(w.scalars, g.scalars).map { $0 + -0.3 * $1 })
            })
        let s1 = charRNNLossAndGradients(w1, inputs: Array(d[5..<10]), targets: Array(d[6..<11]), hPrev: s0.h)
        let w2 = CharRNNWeights(
            zip(w1.tensors, s1.grads).map { w, g in
                Tensor(shape: w.shape, scalars: zip(w.scalars, g.scalars).map { $0 + -0.3 * $1 })
            })
        XCTAssertEqual(r.loss.scalars, [s0.loss, s1.loss])
        XCTAssertEqual(r.weights, w2)
        XCTAssertEqual(r.h, s1.h)
        XCTAssertEqual(r.gradNorm.scalars, [globalNorm(s0.grads), globalNorm(s1.grads)])
        XCTAssertEqual(r.learningRate.scalars, [0.3, 0.3])
        let start = -Double.log(1 / Double(v)) * 5
        XCTAssertEqual(
            r.smoothLoss.scalars,
            [start * 0.999 + s0.loss * 0.001, (start * 0.999 + s0.loss * 0.001) * 0.999 + s1.loss * 0.001])
    }

    /// Adagrad: m += d², θ += −lr · d / sqrt(m + ε); the first step moves every weight whose gradient
    /// is much larger than √ε by about lr, whatever its size.
    @Test func testAdagradUpdatesWithAccumulatedSquares() {
        let (d, v) = data()
        let w0 = CharRNNWeights<Double>(articleInitVocabSize: v, hiddenSize: 8, seed: 7)
        let config = CharRNNTrainingConfig<Double>(
            seqLength: 4, iterations: 2, optimizer: .adagrad, baseLR: 0.05, clipNorm: 1)
        let r = trainCharRNN(data: d, initial: w0, config: config)
        let s0 = charRNNLossAndGradients(
            w0, inputs: Array(d[0..<4]), targets: Array(d[1..<5]), hPrev: Tensor(zeros: [8]))
        let g0 = clipByGlobalNorm(s0.grads, maxNorm: 1).clipped
        var m = g0.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 * $0 }) }
        let w1 = CharRNNWeights(
            zip(w0.tensors, g0).enumerated().map { j, wg in
                Tensor(
                    shape: wg.0.shape,
                    scalars: wg.0.scalars.indices.map { i in
                        wg.0.scalars[i] + -0.05 * wg.1.scalars[i] / (m[j].scalars[i] + 1e-8).squareRoot()
                    })
            })
        for (a, b) in zip(w1.tensors, w0.tensors) {
            for (x, y) in zip(a.scalars, b.scalars) { XCTAssertLessThanOrEqual(abs(x - y), 0.05 + 1e-15) }
        }
        // db_y[0] = Σ p − onehot: far above √ε
        XCTAssertEqual(abs(w1.by.scalars[0] - w0.by.scalars[0]), 0.05, accuracy: 1e-4)
        let s1 = charRNNLossAndGradients(w1, inputs: Array(d[4..<8]), targets: Array(d[5..<9]), hPrev: s0.h)
        let g1 = clipByGlobalNorm(s1.grads, maxNorm: 1).clipped
        for j in m.indices { for i in m[j].scalars.indices { m[j].scalars[i] += g1[j].scalars[i] * g1[j].scalars[i] } }
        let w2 = CharRNNWeights(
            zip(w1.tensors, g1).enumerated().map { j, wg in
                Tensor(
                    shape: wg.0.shape,
                    scalars: wg.0.scalars.indices.map { i in
                        wg.0.scalars[i] + -0.05 * wg.1.scalars[i] / (m[j].scalars[i] + 1e-8).squareRoot()
                    })
            })
        XCTAssertEqual(r.weights, w2)
        XCTAssertEqual(r.gradNorm.scalars, [globalNorm(s0.grads), globalNorm(s1.grads)])
    }

    /// At the end of the text the chunk starts again at 0 with h = 0 (min-char-rnn's p + S + 1 ≥ N).
    @Test func testTheStateIsResetWhenTheTextRunsOut() {
        let (d, v) = data()  // 24 characters, chunks of 10: p = 0, 10, then 20 + 11 ≥ 24 → back to 0
        let w0 = CharRNNWeights<Double>(articleInitVocabSize: v, hiddenSize: 4, seed: 1)
        let config = CharRNNTrainingConfig<Double>(seqLength: 10, iterations: 3, optimizer: .sgd, baseLR: 0)
        XCTAssertEqual(config.learningRate(at: 5), 0)
        let r = trainCharRNN(data: d, initial: w0, config: config)  // lr 0: the weights never change
        XCTAssertEqual(r.loss.scalars[2], r.loss.scalars[0])
        XCTAssertNotEqual(r.loss.scalars[1], r.loss.scalars[0])
        XCTAssertEqual(r.weights, w0)
    }

    @Test func testTheScheduleIsTheArticles() {
        let config = CharRNNTrainingConfig<Double>(
            seqLength: 1, iterations: 0, optimizer: .sgd, baseLR: 0.1, decayRate: 0.5, decaySteps: 250)
        XCTAssertEqual(config.learningRate(at: 0), 0.1)
        XCTAssertEqual(config.learningRate(at: 250), 0.05, accuracy: 1e-17)
        XCTAssertEqual(config.learningRate(at: 125), 0.1 * Double.pow(0.5, 0.5))
    }

    /// The loss falls clearly, in both precisions, and the two agree early on.
    @Test func testTheLossFallsInFloatAndDouble() {
        let (d, v) = data()
        let config64 = CharRNNTrainingConfig<Double>(
            seqLength: 8, iterations: 300, optimizer: .adagrad, baseLR: 0.05, clipNorm: 5)
        let config32 = CharRNNTrainingConfig<Float>(
            seqLength: 8, iterations: 300, optimizer: .adagrad, baseLR: 0.05, clipNorm: 5)
        let r64 = trainCharRNN(
            data: d, initial: CharRNNWeights<Double>(articleInitVocabSize: v, hiddenSize: 16, seed: 42),
            config: config64)
        let r32 = trainCharRNN(
            data: d, initial: CharRNNWeights<Float>(articleInitVocabSize: v, hiddenSize: 16, seed: 42), config: config32
        )
        for losses in [r64.loss.scalars, r32.loss.scalars.map(Double.init)] {
            let first = losses[0], lastTen = losses.suffix(10).reduce(0, +) / 10
            XCTAssertEqual(first, 8 * Double.log(Double(v)), accuracy: 0.05)  // tiny weights: p ≈ 1/V
            XCTAssertLessThan(lastTen, 0.25 * first)
        }
        assertClose(Array(r32.loss.scalars.prefix(5)), Array(r64.loss.scalars.prefix(5)), abs: 1e-4, rel: 1e-5)
    }

    /// The article's draw: W_hh, then W_xh, then W_hy from one legacy stream, each randn · 0.01.
    @Test func testArticleInitDrawsInTheArticlesOrder() {
        let w = CharRNNWeights<Double>(articleInitVocabSize: 3, hiddenSize: 2, seed: 42)
        var rs = NumPyRandomState(seed: 42)
        let draws = (0..<(4 + 6 + 6)).map { _ in rs.standardNormal() * 0.01 }
        XCTAssertEqual(w.whh.scalars, Array(draws[0..<4]))
        XCTAssertEqual(w.wxh.scalars, Array(draws[4..<10]))
        XCTAssertEqual(w.why.scalars, Array(draws[10..<16]))
        // np.random.seed(42); np.random.randn()
        XCTAssertEqual(w.whh.scalars[0], 0.01 * 0.4967141530112327, accuracy: 1e-18)
        XCTAssertEqual(w.bh.scalars, [0, 0])
        XCTAssertEqual(w.by.scalars, [0, 0, 0])
        let f = CharRNNWeights<Float>(articleInitVocabSize: 3, hiddenSize: 2, seed: 42)
        XCTAssertEqual(f.whh.scalars, draws[0..<4].map { Float($0) })
    }
}
