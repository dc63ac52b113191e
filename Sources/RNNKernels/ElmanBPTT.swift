// Elman RNN language-model head over a sequence, and its backpropagation through time.
//
// Shape legend: T steps, B batch, I input, H hidden, V output classes.
//   x [T, B, I], targets [T, B] (class indices), h0 [B, H]
//   W_xh [H, I], W_hh [H, H], b_h [H], W_hy [V, H], b_y [V]
//   h [T, B, H], p [T, B, V]

/// What the forward pass keeps for the backward pass.
public struct ElmanSequenceCache<T: KernelScalar>: Sendable {
    /// Hidden states h_1 ... h_T, [T, B, H].
    public var h: [T]
    /// Softmax outputs p_1 ... p_T, [T, B, V].
    public var p: [T]
    /// Σ_t Σ_b −log p_t[b, target_t,b].
    public var loss: T
    public var steps: Int, batch: Int

    @inlinable
    public init(h: [T], p: [T], loss: T, steps: Int, batch: Int) {
        self.h = h
        self.p = p
        self.loss = loss
        self.steps = steps
        self.batch = batch
    }
}

/// Gradients of the summed cross-entropy with respect to every weight and the initial state.
public struct ElmanGradients<T: KernelScalar>: Sendable {
    public var wxh: [T], whh: [T], bh: [T], why: [T], by: [T]
    /// dL/dh0, [B, H].
    public var h0: [T]

    @inlinable
    public init(hidden h: Int, input i: Int, output v: Int, batch b: Int) {
        wxh = .init(repeating: 0, count: h * i)
        whh = .init(repeating: 0, count: h * h)
        bh = .init(repeating: 0, count: h)
        why = .init(repeating: 0, count: v * h)
        by = .init(repeating: 0, count: v)
        h0 = .init(repeating: 0, count: b * h)
    }

    /// The weight gradients in the order of seed 002's `clip_gradients` list.
    @inlinable
    public var weightGradients: [[T]] { [wxh, whh, why, bh, by] }
}

/// Forward pass of an Elman RNN with a softmax output layer and cross-entropy loss.
///
///     h_t = act(W_xh x_t + W_hh h_{t−1} + b_h)      p_t = softmax(W_hy h_t + b_y)
///     L = Σ_t Σ_b −log p_t[b, target_t,b]
///
/// - Parameters:
///   - x: inputs [T, B, I] (row-major, flat).
///   - targets: class indices [T, B], each in 0..<V.
///   - h0: initial state [B, H].
/// - Returns: the cache the backward pass needs (every h and p) and the loss.
@inlinable
public func elmanSequenceForward<T: KernelScalar>(x: [T], targets: [Int], h0: [T], weights w: ElmanWeights<T>,
                                                  steps: Int, batch: Int) -> ElmanSequenceCache<T> {
    let hn = w.hiddenSize, i = w.inputSize, v = w.why!.shape[0]
    var h = [T](repeating: 0, count: steps * batch * hn)
    var p = [T](repeating: 0, count: steps * batch * v)
    var loss: T = 0
    var prev = h0
    for t in 0..<steps {
        let step = elmanStep(x: Tensor(shape: [batch, i], scalars: Array(x[(t * batch * i)..<((t + 1) * batch * i)])),
                             hPrev: Tensor(shape: [batch, hn], scalars: prev), weights: w)
        h.replaceSubrange((t * batch * hn)..<((t + 1) * batch * hn), with: step.h.scalars)
        let probabilities = step.probabilities!.scalars
        p.replaceSubrange((t * batch * v)..<((t + 1) * batch * v), with: probabilities)
        // log-softmax, not log(softmax): finite even where the probability underflows.
        let logits = step.y!.scalars
        for b in 0..<batch { loss -= logSoftmax(Array(logits[(b * v)..<((b + 1) * v)]))[targets[t * batch + b]] }
        prev = step.h.scalars
    }
    return ElmanSequenceCache(h: h, p: p, loss: loss, steps: steps, batch: batch)
}

/// Backpropagation through time for `elmanSequenceForward`, adding into `grads`.
///
///     dy_t = p_t − onehot(target_t)
///     dh_t = W_hyᵀ dy_t + W_hhᵀ da_{t+1}        da_t = dh_t ⊙ act'(h_t)
///     dW_hy += dy_t h_tᵀ,  db_y += dy_t,  dW_xh += da_t x_tᵀ,  dW_hh += da_t h_{t−1}ᵀ,  db_h += da_t
///
/// - Parameters:
///   - window: truncation length; the gradient does not flow from one window of `window`
///     steps into the previous one (the state does, in the forward pass). `nil`: full BPTT.
///     dL/dh0 is the gradient reaching h0 through the first window.
@inlinable
public func elmanSequenceBackward<T: KernelScalar>(x: [T], targets: [Int], h0: [T], weights w: ElmanWeights<T>,
                                                   cache: ElmanSequenceCache<T>, window: Int? = nil,
                                                   into g: inout ElmanGradients<T>) {
    let hn = w.hiddenSize, i = w.inputSize, v = w.why!.shape[0], batch = cache.batch
    let why = w.why!.scalars
    var dhNext = [T](repeating: 0, count: batch * hn)
    var dy = [T](repeating: 0, count: batch * v)
    var da = [T](repeating: 0, count: batch * hn)
    for t in stride(from: cache.steps - 1, through: 0, by: -1) {
        // Truncation: the window that ends at t + 1 receives no gradient from later steps.
        if let window, (t + 1) % window == 0, t + 1 < cache.steps {
            for k in 0..<dhNext.count { dhNext[k] = 0 }
        }
        let hT = Array(cache.h[(t * batch * hn)..<((t + 1) * batch * hn)])
        let hPrev = t == 0 ? h0 : Array(cache.h[((t - 1) * batch * hn)..<(t * batch * hn)])
        let xT = Array(x[(t * batch * i)..<((t + 1) * batch * i)])
        for b in 0..<batch {
            for k in 0..<v { dy[b * v + k] = cache.p[(t * batch + b) * v + k] }
            dy[b * v + targets[t * batch + b]] -= 1
        }
        // dW_hy [V, H] += dyᵀ [V, B] · h [B, H]; db_y += Σ_b dy.
        gemm(dy, hT, into: &g.why, m: v, n: hn, k: batch, transposeA: true, accumulate: true)
        for b in 0..<batch { for k in 0..<v { g.by[k] += dy[b * v + k] } }
        // dh [B, H] = dy [B, V] · W_hy [V, H] + dh_next.
        var dh = dhNext
        gemm(dy, why, into: &dh, m: batch, n: hn, k: v, accumulate: true)
        for k in 0..<(batch * hn) { da[k] = dh[k] * w.activation.derivative(fromOutput: hT[k]) }
        gemm(da, xT, into: &g.wxh, m: hn, n: i, k: batch, transposeA: true, accumulate: true)
        gemm(da, hPrev, into: &g.whh, m: hn, n: hn, k: batch, transposeA: true, accumulate: true)
        for b in 0..<batch { for k in 0..<hn { g.bh[k] += da[b * hn + k] } }
        // dh_{t−1} [B, H] = da [B, H] · W_hh [H, H].
        gemm(da, w.whh.scalars, into: &dhNext, m: batch, n: hn, k: hn)
    }
    // What reaches h0 unless the first window is cut off from it (it never is: h0 precedes step 0).
    for k in 0..<(batch * hn) { g.h0[k] += dhNext[k] }
}
