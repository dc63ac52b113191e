// A cell step split by hidden unit over threads: each thread multiplies h_prev by its own rows of R (packed
// once, and kept by the cell while R is the same array: `PackedWeightsStore`) and then computes every gate
// of its hidden units, so a step hands work off once.
//
// Shape legend: B batch, H hidden, P state size of h, G gates.
//   R [G*H, P]; part t of R: the rows k*H + j for every gate block k and j in ranges[t], [G*|range|, P]

extension RecurrentCell {
    /// The recurrent weights regrouped for a step split over threads by hidden unit: part t holds
    /// the rows k*H + j of R for every gate block k and every j in `ranges[t]`, [G*|range|, P], so
    /// that each thread computes its share of h_prev Rᵀ and then every gate of its hidden units,
    /// with no synchronization in between (`forward(x:projected:hPrev:cPrev:split:)`).
    ///
    /// Each part is packed once (`packOperand`) for the step's product h_prev R_tᵀ, and R whole for
    /// the backward step's dR · R.
    public struct SplitRecurrent: Sendable {
        /// The hidden units of each part (each thread's share of 0..<H).
        public var ranges: [Range<Int>]
        /// Part t's rows of R, packed as the [P, G*|range|] right operand of h_prev R_tᵀ.
        public var weights: [PackedOperand<T>]

        /// Creates the result from its parts.
        @inlinable
        public init(ranges: [Range<Int>], weights: [PackedOperand<T>]) {
            self.ranges = ranges
            self.weights = weights
        }
    }

    /// Whether a step can run split by hidden unit: every gate of unit j depends only on column j
    /// of each gate block (not so with a projection, or with the GRU reset applied before the product).
    @inlinable
    public var splitsByHiddenUnit: Bool {
        switch conventions.kind {
        case .rnn: return true
        case .lstm: return parameters.projection == nil
        case .gru: return conventions.resetPlacement == .afterMatmul
        }
    }

    /// R regrouped into `parts` ranges of hidden units (see `SplitRecurrent`).
    @inlinable
    public func splitRecurrent(parts: Int) -> SplitRecurrent {
        let h = hiddenSize
        let ranges = (0..<parts).map { t in (t * h / parts)..<((t + 1) * h / parts) }
        return SplitRecurrent(
            ranges: ranges, weights: packedByHiddenUnit(parameters.r.scalars, ranges: ranges, name: "R"))
    }

    /// A weight matrix of G gate blocks, [G*H, K] (R or W), regrouped by the hidden units of each range
    /// (part t: rows k*H + j for every gate block k and j in `ranges[t]`) and packed as the [K, G*|range|]
    /// right operand of a product by its transpose.
    /// Kept in `packedWeights` under `name` (W or R: with I = H the two have the same shape) while `weights`
    /// is the same array. Where one range covers every hidden unit the rows are already in that order and are
    /// packed as they are.
    @inlinable
    func packedByHiddenUnit(_ weights: [T], ranges: [Range<Int>], name: String) -> [PackedOperand<T>] {
        let h = hiddenSize, gc = conventions.kind.gateCount, depth = weights.count / max(1, gc * h)
        return packedWeights.packed("\(name) by hidden unit \(ranges)", of: weights) {
            if ranges == [0..<h] { return [packOperand(weights, k: depth, n: gc * h, transposed: true)] }
            return packedByHiddenUnitAnew(weights, ranges: ranges, depth: depth)
        }
    }

    @inlinable
    func packedByHiddenUnitAnew(_ weights: [T], ranges: [Range<Int>], depth: Int) -> [PackedOperand<T>] {
        let h = hiddenSize, gc = conventions.kind.gateCount
        return ranges.map { range -> PackedOperand<T> in
            var part = [T]()
            part.reserveCapacity(gc * range.count * depth)
            for k in 0..<gc {
                part.append(
                    contentsOf: weights[((k * h + range.lowerBound) * depth)..<((k * h + range.upperBound) * depth)])
            }
            return packOperand(part, k: depth, n: gc * range.count, transposed: true)
        }
    }

    /// The split a sequence of batch `batch` should run its steps with: R regrouped in two parts
    /// when a step's product is large enough for two threads to pay (2^21 multiply-adds, about
    /// B=32, H=128 for an LSTM), else one part (R packed once, every unit on the calling thread);
    /// nil where the cell does not split (`splitsByHiddenUnit`).
    @inlinable
    public func sequenceSplit(batch: Int) -> SplitRecurrent? {
        sequenceParts(batch: batch).map { splitRecurrent(parts: $0) }
    }

    /// The number of parts of `sequenceSplit(batch:)`, without packing R; nil where the cell does not split.
    @usableFromInline
    func sequenceParts(batch: Int) -> Int? {
        guard splitsByHiddenUnit else { return nil }
        let work = batch * conventions.kind.gateCount * hiddenSize * stateSize
        let threads = packedGemmAvailable && elementwiseThreads > 1 && hiddenSize >= 16 && work >= 1 << 21
        return threads ? elementwiseThreads : 1
    }
}
