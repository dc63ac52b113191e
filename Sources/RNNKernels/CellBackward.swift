// A cell step backward: the gradients of the gate pre-activations and of the previous state, step by step
// (here for the Elman RNN; CellBackwardGates.swift for the LSTM and the GRU), and the weight gradients,
// which a sequence defers to one product over all its steps.
//
// Shape legend: B batch, I input, H hidden, P state size of h, G gates.
//   da, dRecurrent [B, G*H] (storage order), dh, dh_prev [B, P], dc, dc_prev [B, H]

/// Gradients with respect to a step's inputs.
public struct CellInputGradients<T: KernelScalar>: Sendable {
    /// dL/dx, [B, I].
    public var x: Tensor<T>
    /// dL/dh_prev, [B, P].
    public var hPrev: Tensor<T>
    /// dL/dc_prev, [B, H] (LSTM).
    public var cPrev: Tensor<T>?

    /// The gradients with respect to x, h_prev and (LSTM) c_prev.
    @inlinable
    public init(x: Tensor<T>, hPrev: Tensor<T>, cPrev: Tensor<T>?) {
        self.x = x
        self.hPrev = hPrev
        self.cPrev = cPrev
    }
}

/// What `RecurrentCell.backwardStep` returns: the gradients of one step's gate pre-activations
/// and of its previous state.
public struct CellStepGradients<T: KernelScalar>: Sendable {
    /// dL/d(x Wᵀ + b_W), [B, G*H].
    public var da: [T]
    /// dL/d(h_prev Rᵀ + b_R), [B, G*H] (the GRU's n block: see `backwardStep`).
    public var dRecurrent: [T]
    /// dL/dh_prev, [B, P].
    public var hPrev: Tensor<T>
    /// dL/dc_prev, [B, H] (LSTM).
    public var cPrev: Tensor<T>?
    /// LSTM: dL/dc of this step in full, through c_next (`dc`) and through h = o ⊙ act(c), [B, H]
    /// (the output gate's peephole path excluded: it is the gradient a perturbation of c made
    /// after o is computed would see).
    public var c: [T]?

    /// The gradients of a step's two pre-activation parts and of its previous state.
    @inlinable
    public init(da: [T], dRecurrent: [T], hPrev: Tensor<T>, cPrev: Tensor<T>?, c: [T]? = nil) {
        self.da = da
        self.dRecurrent = dRecurrent
        self.hPrev = hPrev
        self.cPrev = cPrev
        self.c = c
    }
}

extension RecurrentCell {
    /// The backward step: adds dL/d(weights) into `grads` and returns dL/dx, dL/dh_prev, dL/dc_prev.
    ///
    /// Arguments:
    ///   - cache: the forward step's cache.
    ///   - dh: dL/dh for this step's h, [B, P] (everything flowing into h: the output and the next step).
    ///   - dc: dL/dc from the next step, [B, H] (LSTM; zeros if nil).
    /// - Note: at a clip boundary the slope is 1; activations use one-sided derivatives at kinks.
    ///   This is `backwardStep` followed by `accumulateWeightGradients` for the one step; a
    ///   sequence defers the second to one product over all its steps.
    @inlinable
    public func backward(
        _ cache: CellStepCache<T>, dh: Tensor<T>, dc: Tensor<T>? = nil,
        into grads: inout CellGradients<T>
    ) -> CellInputGradients<T> {
        let bsz = cache.x.shape[0], inp = inputSize, gh = conventions.kind.gateCount * hiddenSize
        let step = backwardStep(cache, dh: dh, dc: dc, into: &grads)
        accumulateWeightGradients(
            da: step.da, dRecurrent: step.dRecurrent, x: cache.x.scalars,
            hPrev: cache.hPrev.scalars, rows: bsz, into: &grads)
        var dx = [T](repeating: 0, count: bsz * inp)
        gemm(step.da, parameters.w.scalars, into: &dx, m: bsz, n: inp, k: gh)
        return CellInputGradients(x: Tensor(shape: [bsz, inp], scalars: dx), hPrev: step.hPrev, cPrev: step.cPrev)
    }

    /// The weight gradients that are products over rows: dW += daᵀ x, db_W += Σ da,
    /// dR += dRᵀ h_prev, db_R += Σ dR, where dR = `dRecurrent`.
    ///
    /// Arguments:
    ///   - da: dL/d(input part of the pre-activations), [rows, G*H]. - dRecurrent: dL/d(h_prev Rᵀ + b_R), [rows, G*H].
    ///   - x: [rows, I]. - hPrev: [rows, P].
    ///   - rows: B for one step, or T*B for a whole sequence at once.
    @inlinable
    public func accumulateWeightGradients(
        da: [T], dRecurrent: [T], x: [T], hPrev: [T], rows: Int,
        into grads: inout CellGradients<T>
    ) {
        let gh = conventions.kind.gateCount * hiddenSize
        gemm(da, x, into: &grads.w.scalars, m: gh, n: inputSize, k: rows, transposeA: true, accumulate: true)
        gemm(
            dRecurrent, hPrev, into: &grads.r.scalars, m: gh, n: stateSize, k: rows, transposeA: true, accumulate: true)
        addColumnSums(da, rows: rows, cols: gh, into: &grads.bw.scalars)
        addColumnSums(dRecurrent, rows: rows, cols: gh, into: &grads.br.scalars)
    }

    /// R packed as the right operand of the backward step's dR · R ([G*H, P]), kept in `packedWeights` while R
    /// is the same array.
    @inlinable
    public func packedRecurrent() -> PackedOperand<T> {
        let r = parameters.r.scalars, k = conventions.kind.gateCount * hiddenSize, n = stateSize
        return packedWeights.packed("R for dR · R", of: r) {
            [packOperand(r, k: k, n: n, transposed: false)]
        }[0]
    }

    /// Whether the backward step lets each thread multiply its own rows of the gate gradients by the packed R
    /// right after computing them (LSTM, and GRU with the reset after the product): R must have panels and
    /// the product be large enough for two threads (2^21 multiply-adds).
    @inlinable
    func fusesRowProduct(batch: Int, packedR: PackedOperand<T>?) -> Bool {
        (packedR?.isPacked ?? false) && batch * conventions.kind.gateCount * hiddenSize * stateSize >= 1 << 21
    }

    /// dh_prev += dR · R, [B, G*H] · [G*H, P].
    @inlinable
    func dhPrevProduct(_ dRec: [T], into dhPrev: inout [T], rows: Int, packedR: PackedOperand<T>?) {
        if let packedR {
            gemm(dRec, packedR, into: &dhPrev, m: rows, accumulate: true)
        } else {
            gemm(
                dRec, parameters.r.scalars, into: &dhPrev, m: rows, n: stateSize,
                k: conventions.kind.gateCount * hiddenSize, accumulate: true)
        }
    }

    /// Whether the backward step reads the gate pre-activations, not only the gate values: with a clip
    /// (its slope is 0 outside [−clip, clip]) or an activation whose slope is not a function of its value
    /// (anything but the sigmoid and tanh). Otherwise a sequence keeps the gate values alone.
    @inlinable
    public var backwardReadsPreactivations: Bool {
        let c = conventions
        if c.clip != nil { return true }
        let used = c.kind == .rnn ? [c.candidateActivation] : [c.gateActivation, c.candidateActivation]
        return used.contains { $0.kind != .sigmoid && $0.kind != .tanh }
    }

    /// What the slopes read as x: the pre-activations, or, where the step did not keep them
    /// (`backwardReadsPreactivations` false), the gate values, which `slope` then does not read as x.
    @inlinable
    func slopeInputs(_ cache: CellStepCache<T>) -> [T] {
        cache.preactivations?.scalars ?? cache.gates.scalars
    }

    /// act'(clamp(x)) · clamp'(x), from the stored output y = act(clamp(x)).
    @inlinable
    func slope(_ act: CellActivation, _ x: T, _ y: T) -> T {
        act.derivative(clamp(x), output: y) * clampSlope(x)
    }

    /// The part of the backward step that must run step by step: the gradients of the gate
    /// pre-activations and of the previous state. Adds into `grads` only what is not a product
    /// over rows (peepholes, projection, and the GRU's n block of R when the reset applies before
    /// the product); `accumulateWeightGradients` adds the rest.
    ///
    /// - `packedR`: R packed as the [G*H, P] right operand (`packedRecurrent()`), for a sequence
    ///   that runs many steps with the same R; nil multiplies by R as stored.
    /// - Returns: da [B, G*H] (input part), dRecurrent [B, G*H] (recurrent part; equal to da but for
    ///   the GRU's n block), dL/dh_prev [B, P], dL/dc_prev [B, H] (LSTM).
    /// - Precondition: the cache is a step of this cell's family.
    @inlinable
    public func backwardStep(
        _ cache: CellStepCache<T>, dh: Tensor<T>, dc: Tensor<T>? = nil,
        packedR: PackedOperand<T>? = nil,
        into grads: inout CellGradients<T>
    ) -> CellStepGradients<T> {
        let bsz = cache.x.shape[0]
        precondition(dh.shape == [bsz, stateSize], "cell backward: dh \(dh.shape)")
        switch (conventions.kind, cache.state) {
        case (.rnn, .rnn):
            let act = conventions.candidateActivation, pre = slopeInputs(cache), gates = cache.gates.scalars
            let da = (0..<pre.count).map { j in dh.scalars[j] * slope(act, pre[j], gates[j]) }
            var dhPrev: [T] = zeros(bsz * stateSize)
            dhPrevProduct(da, into: &dhPrev, rows: bsz, packedR: packedR)
            return CellStepGradients(
                da: da, dRecurrent: da, hPrev: Tensor(shape: [bsz, stateSize], scalars: dhPrev), cPrev: nil)
        case (.lstm, .lstm(let cPrev, let c, let unprojected)):
            return lstmBackwardStep(
                cache, cPrev: cPrev, c: c, unprojected: unprojected, dh: dh, dc: dc, packedR: packedR, into: &grads)
        case (.gru, .gru(let resetInput)):
            if conventions.resetPlacement == .afterMatmul {
                return gruBackwardStepResetAfter(cache, resetInput: resetInput, dh: dh, packedR: packedR)
            }
            return gruBackwardStepResetBefore(cache, resetInput: resetInput, dh: dh, packedR: packedR, into: &grads)
        default:
            preconditionFailure(
                "cell backward: the cache of a step of another cell family (\(cache.state)) for a \(conventions.kind) cell"
            )
        }
    }
}

/// out[j] += Σ_row m[row, j] for a row-major [rows, cols] matrix.
@inlinable
func addColumnSums<T: KernelScalar>(_ m: [T], rows: Int, cols: Int, into out: inout [T]) {
    for row in 0..<rows { for j in 0..<cols { out[j] += m[row * cols + j] } }
}
