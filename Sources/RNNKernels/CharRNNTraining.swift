// Training the article's character-level Elman RNN (seed 002) on a text, min-char-rnn's loop.
//
// Shape legend: N characters of text, V vocabulary, H hidden, S sequence length (steps per
// iteration), K iterations.
//   data [N] (character indices in 0..<V)
//   W_xh [H, V], W_hh [H, H], W_hy [V, H], b_h [H], b_y [V]
//   loss, smooth loss, grad norm, learning rate [K]; final h [H]

/// The optimiser that applies each iteration's (clipped) gradients.
public enum CharRNNOptimizer: String, Sendable, CaseIterable {
    /// θ ← θ − lr · dθ.
    case sgd
    /// min-char-rnn's Adagrad: m ← m + dθ², θ ← θ + (−lr · dθ) / sqrt(m + ε), m starting at 0.
    case adagrad
}

/// The article's model: an Elman RNN over one-hot characters with a softmax output layer.
public struct CharRNNWeights<T: KernelScalar>: Sendable, Equatable {
    /// [H, V]. - whh: [H, H]. - why: [V, H]. - bh: [H]. - by: [V].
    public var wxh: Tensor<T>
    /// W_hh, [H, H].
    public var whh: Tensor<T>
    /// W_hy, [V, H].
    public var why: Tensor<T>
    /// b_h, [H].
    public var bh: Tensor<T>
    /// b_y, [V].
    public var by: Tensor<T>

    @inlinable
    /// The five weights, in the article's names.
    public init(wxh: Tensor<T>, whh: Tensor<T>, why: Tensor<T>, bh: Tensor<T>, by: Tensor<T>) {
        self.wxh = wxh
        self.whh = whh
        self.why = why
        self.bh = bh
        self.by = by
    }

    /// The weights as the article's `CharRNN.__init__` draws them after `np.random.seed(seed)`:
    ///
    ///     W_hh = np.random.randn(H, H) * 0.01
    ///     W_xh = np.random.randn(H, V) * 0.01
    ///     W_hy = np.random.randn(V, H) * 0.01
    ///     b_h = np.zeros((H, 1)); b_y = np.zeros((V, 1))
    ///
    /// in that order, from NumPy's legacy generator (`NumPyRandomState`), each value computed in
    /// float64 and then rounded to T (as `.astype(np.float32)` does).
    @inlinable
    public init(articleInitVocabSize v: Int, hiddenSize h: Int, seed: UInt32) {
        var rs = NumPyRandomState(seed: seed)
        func draw(_ shape: [Int]) -> Tensor<T> {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in T(rs.standardNormal() * 0.01) })
        }
        let whh = draw([h, h]), wxh = draw([h, v]), why = draw([v, h])
        self.init(wxh: wxh, whh: whh, why: why, bh: Tensor(zeros: [h]), by: Tensor(zeros: [v]))
    }

    /// V. - hiddenSize: H.
    @inlinable public var vocabSize: Int { why.shape[0] }
    @inlinable public var hiddenSize: Int { whh.shape[0] }

    /// The five tensors in the order the gradients are clipped and updated: W_xh, W_hh, W_hy, b_h, b_y.
    @inlinable public var tensors: [Tensor<T>] { [wxh, whh, why, bh, by] }

    /// The weights rebuilt from five tensors in the order of `tensors`.
    @inlinable
    public init(_ t: [Tensor<T>]) {
        precondition(t.count == 5, "CharRNNWeights: five tensors")
        self.init(wxh: t[0], whh: t[1], why: t[2], bh: t[3], by: t[4])
    }

    /// The hidden layer as the shared cell driver's Elman cell (tanh).
    @inlinable public var cell: RecurrentCell<T> { .elman(wxh: wxh, whh: whh, bh: bh) }
}

/// How the article's model is trained.
public struct CharRNNTrainingConfig<T: KernelScalar>: Sendable {
    /// S ≥ 1: characters per iteration (each iteration's inputs, with the next S as targets).
    public var seqLength: Int
    /// K ≥ 0.
    public var iterations: Int
    /// SGD or Adagrad.
    public var optimizer: CharRNNOptimizer
    /// The article's schedule, lr_n = baseLR · decayRate^(n / decaySteps), n the iteration (0, 1, …).
    public var baseLR: Double
    /// The schedule's decay rate: lr = base_lr · decay_rate^(iteration / decay_steps).
    public var decayRate: Double
    /// The schedule's decay steps.
    public var decaySteps: Double
    /// The global-norm threshold of the article's `clip_gradients`; nil clips nothing.
    public var clipNorm: T?
    /// Adagrad's ε under the square root (min-char-rnn: 1e-8).
    public var epsilon: T

    @inlinable
    /// A training configuration; see the properties.
    public init(
        seqLength: Int, iterations: Int, optimizer: CharRNNOptimizer, baseLR: Double, decayRate: Double = 1,
        decaySteps: Double = 1, clipNorm: T? = nil, epsilon: T = T(1e-8)
    ) {
        self.seqLength = seqLength
        self.iterations = iterations
        self.optimizer = optimizer
        self.baseLR = baseLR
        self.decayRate = decayRate
        self.decaySteps = decaySteps
        self.clipNorm = clipNorm
        self.epsilon = epsilon
    }

    /// lr_n = baseLR · decayRate^(n / decaySteps), evaluated in float64 (as Python does) and rounded to T.
    @inlinable
    public func learningRate(at n: Int) -> T {
        T(exponentialDecay(epochs: [Double(n)], base: baseLR, rate: decayRate, steps: decaySteps).rate[0])
    }
}

/// What training produced.
public struct CharRNNTrainingResult<T: KernelScalar>: Sendable {
    /// Σ over the S steps of −log p_t[target_t], each iteration, [K].
    public var loss: Tensor<T>
    /// min-char-rnn's smooth_loss after each iteration, [K]: s ← 0.999 s + 0.001 loss, from s = −log(1/V) · S.
    public var smoothLoss: Tensor<T>
    /// ‖(dW_xh, dW_hh, dW_hy, db_h, db_y)‖ before clipping, each iteration, [K].
    public var gradNorm: Tensor<T>
    /// The learning rate each iteration used, [K].
    public var learningRate: Tensor<T>
    /// The weights after the last update.
    public var weights: CharRNNWeights<T>
    /// The hidden state carried out of the last iteration, [H] (what min-char-rnn samples from).
    public var h: Tensor<T>

    @inlinable
    /// A training record from its curves, weights and sample.
    public init(
        loss: Tensor<T>, smoothLoss: Tensor<T>, gradNorm: Tensor<T>, learningRate: Tensor<T>,
        weights: CharRNNWeights<T>, h: Tensor<T>
    ) {
        self.loss = loss
        self.smoothLoss = smoothLoss
        self.gradNorm = gradNorm
        self.learningRate = learningRate
        self.weights = weights
        self.h = h
    }
}

/// One iteration's loss and gradients of the article's model on a chunk: the forward pass and BPTT
/// of the shared cell driver (`cellSequenceForward`, `cellSequenceBackward`, as `rnn.bptt` runs them).
///
/// - Parameters:
///   - w: the weights.
///   - inputs: S character indices, in 0..<V.
///   - targets: S character indices (the next characters), in 0..<V.
///   - hPrev: [H], the state carried in.
/// - Returns: the loss Σ_t −log p_t[target_t], the gradients in the order of `CharRNNWeights.tensors`,
///   and h_{S−1}, [H].
@inlinable
public func charRNNLossAndGradients<T: KernelScalar>(
    _ w: CharRNNWeights<T>, inputs: [Int], targets: [Int],
    hPrev: Tensor<T>
) -> (loss: T, grads: [Tensor<T>], h: Tensor<T>) {
    let v = w.vocabSize, hs = w.hiddenSize, steps = inputs.count
    precondition(
        targets.count == steps && hPrev.count == hs,
        "charRNNLossAndGradients: \(steps) inputs, \(targets.count) targets")
    var x = [T](repeating: 0, count: steps * v)
    for (t, ix) in inputs.enumerated() { x[t * v + ix] = 1 }
    let cell = w.cell
    let head = SequenceLossHead<T>.crossEntropy(why: w.why, by: w.by, targets: targets)
    let cache = cellSequenceForward(
        cell, x: Tensor(shape: [steps, 1, v], scalars: x), h0: hPrev.reshaped([1, hs]), head: head)
    var g = CellSequenceGradients(zerosLike: cell, head: head, steps: steps, batch: 1)
    cellSequenceBackward(cell, cache: cache, head: head, into: &g)
    let last = steps == 0 ? hPrev.scalars : Array(cache.h.scalars[((steps - 1) * hs)..<(steps * hs)])
    return (cache.loss, [g.cell.w, g.cell.r, g.why!, g.cell.bw, g.by!], Tensor(last))
}

/// Trains the article's model on `data` as min-char-rnn's loop does, with the article's global-norm
/// clipping and learning-rate schedule:
///
///     for n in 0..<K:
///         if p + S + 1 ≥ N or n == 0: h = 0, p = 0          (start of the text, state reset)
///         loss, grads, h = lossFun(data[p..<p+S], data[p+1..<p+S+1], h)   (h carried to the next chunk)
///         smooth = 0.999 · smooth + 0.001 · loss
///         grad_norm = ‖grads‖; if clip: grads = clip_gradients(grads, clip)
///         lr = baseLR · decayRate^(n / decaySteps)
///         SGD: θ −= lr · dθ      Adagrad: m += dθ²; θ += −lr · dθ / sqrt(m + ε)
///         p += S
///
/// - Parameters:
///   - data: the text as character indices, N ≥ S + 1.
///   - initial: the starting weights (`CharRNNWeights(articleInitVocabSize:...)` for the article's draw).
///   - config: the chunk length, iterations, optimiser, schedule, clipping and sample settings.
/// - Note: the condition `p + S + 1 ≥ N` is min-char-rnn's, so the last full chunk of a pass is skipped
///   when it ends exactly at the text's last character.
@inlinable
public func trainCharRNN<T: KernelScalar>(data: [Int], initial: CharRNNWeights<T>, config: CharRNNTrainingConfig<T>)
    -> CharRNNTrainingResult<T>
{
    let s = config.seqLength, v = initial.vocabSize, hs = initial.hiddenSize, k = config.iterations
    precondition(
        s >= 1 && data.count >= s + 1 && k >= 0 && data.allSatisfy { (0..<v).contains($0) },
        "trainCharRNN: \(data.count) characters for sequences of \(s)")
    var params = initial.tensors
    var memory = params.map { Tensor<T>(zeros: $0.shape) }
    var h = Tensor<T>(zeros: [hs]), p = 0
    var smooth = -T.log(1 / T(v)) * T(s)
    var losses = [T](), smooths = [T](), norms = [T](), rates = [T]()
    losses.reserveCapacity(k); smooths.reserveCapacity(k); norms.reserveCapacity(k); rates.reserveCapacity(k)
    for n in 0..<k {
        if p + s + 1 >= data.count || n == 0 {
            h = Tensor(zeros: [hs])
            p = 0
        }
        let step = charRNNLossAndGradients(
            CharRNNWeights(params), inputs: Array(data[p..<(p + s)]),
            targets: Array(data[(p + 1)..<(p + s + 1)]), hPrev: h)
        h = step.h
        smooth = smooth * T(0.999) + step.loss * T(0.001)
        var grads = step.grads
        let norm: T
        if let clip = config.clipNorm {
            let clipped = clipByGlobalNorm(grads, maxNorm: clip)
            norm = clipped.norm
            grads = clipped.clipped
        } else {
            norm = globalNorm(grads)
        }
        let lr = config.learningRate(at: n)
        for j in params.indices {
            switch config.optimizer {
            case .sgd:
                for i in params[j].scalars.indices { params[j].scalars[i] += -lr * grads[j].scalars[i] }
            case .adagrad:
                for i in params[j].scalars.indices {
                    let d = grads[j].scalars[i]
                    memory[j].scalars[i] += d * d
                    params[j].scalars[i] += -lr * d / (memory[j].scalars[i] + config.epsilon).squareRoot()
                }
            }
        }
        losses.append(step.loss); smooths.append(smooth); norms.append(norm); rates.append(lr)
        p += s
    }
    return CharRNNTrainingResult(
        loss: Tensor(losses), smoothLoss: Tensor(smooths), gradNorm: Tensor(norms),
        learningRate: Tensor(rates), weights: CharRNNWeights(params), h: h)
}

/// A text as the indices of its characters (Unicode scalars, as Python iterates a `str`) in `vocab`
/// (the first occurrence of a repeated entry), or the first character the vocabulary lacks.
@inlinable
public func characterIndices(_ text: String, vocab: [String]) -> Result<[Int], CharacterNotInVocabulary> {
    var index: [String: Int] = [:]
    for (i, c) in vocab.enumerated() where index[c] == nil { index[c] = i }
    var out: [Int] = []
    for (position, scalar) in text.unicodeScalars.enumerated() {
        guard let i = index[String(scalar)] else {
            return .failure(CharacterNotInVocabulary(character: String(scalar), position: position))
        }
        out.append(i)
    }
    return .success(out)
}

/// A character of the text that the vocabulary lacks.
public struct CharacterNotInVocabulary: Error, Sendable, Equatable {
    /// The character that is not in the vocabulary.
    public var character: String
    /// Its position in the text, counted in Unicode scalars from 0.
    public var position: Int
    /// The error for `character` at `position` of the text.
    @inlinable public init(character: String, position: Int) { self.character = character; self.position = position }
}

/// The text's vocabulary as min-char-rnn builds it, made deterministic: the distinct characters
/// (Unicode scalars) sorted by code point, `sorted(set(data))`.
@inlinable
public func sortedVocabulary(_ text: String) -> [String] {
    Set(text.unicodeScalars.map(\.value)).sorted().map { String(Unicode.Scalar($0)!) }
}
