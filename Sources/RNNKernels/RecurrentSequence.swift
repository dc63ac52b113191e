// A recurrent cell unrolled over a sequence: directions, per-step masks (per-sequence lengths),
// stacked layers.
//
// Shape legend: T steps, B batch, I input, H hidden, P state size of h, D directions.
//   x [T, B, I], h0 [B, P], c0 [B, H], mask [T, B] (true = a real step)
//   outputs [T, B, P], stacked outputs [T, B, D*P]

/// Which way a sequence is read.
public enum SequenceDirection: String, Sendable, CaseIterable {
    case forward, reverse
}

/// What a masked (padding) step outputs. The state always carries over unchanged.
public enum MaskedStepOutput: String, Sendable, CaseIterable {
    /// Exactly 0 (ONNX `sequence_lens`, PyTorch packed sequences).
    case zero
    /// The previous step's output, 0 before the first real step (Keras masks).
    case previous
}

/// One direction of one layer over a sequence.
public struct SequenceRun<T: KernelScalar>: Sendable {
    /// Every step's output h, [T, B, P]: in time order, or in processing order when asked
    /// (Keras `go_backwards`).
    public var outputs: Tensor<T>
    /// The state after the last real step of each sequence, [B, P].
    public var hLast: Tensor<T>
    /// LSTM: the cell state after the last real step, [B, H].
    public var cLast: Tensor<T>?
    /// LSTM, when asked (`recordCellStates`): the cell state after every step, [T, B, H], laid out
    /// like `outputs` (a masked step holds the state it carried over).
    public var cellStates: Tensor<T>?
    /// The step caches in processing order (every row computed; masked rows then discarded).
    ///
    /// A run of `runSequence` without a mask keeps each step's x, h_prev and h once, as rows of its input
    /// and of `outputs`, and makes a step's cache when it is read (`stepCache(_:)` reads one): reading
    /// this property copies those rows out for every step. Setting it stores the caches as given.
    public var caches: [CellStepCache<T>] {
        get { (0..<cacheCount).map { stepCache($0) } }
        set {
            kept = newValue
            tape = nil
        }
    }
    /// The time index of each cache.
    public var steps: [Int]
    /// The caches as stored, where the run keeps them whole (a mask, or made by hand).
    @usableFromInline var kept: [CellStepCache<T>]
    /// The caches less the rows the run's input and outputs hold, where the run has no mask.
    @usableFromInline var tape: SequenceTape<T>?

    /// Creates the result from its parts.
    @inlinable
    public init(outputs: Tensor<T>, hLast: Tensor<T>, cLast: Tensor<T>?, caches: [CellStepCache<T>], steps: [Int]) {
        self.outputs = outputs
        self.hLast = hLast
        self.cLast = cLast
        self.kept = caches
        self.tape = nil
        self.steps = steps
    }

    /// How many step caches the run kept (0 for a forward pass alone).
    @inlinable
    public var cacheCount: Int { tape?.count ?? kept.count }

    /// The k-th step's cell state (LSTM c, GRU reset input), without copying its x and h rows out.
    @inlinable
    public func stepState(_ k: Int) -> CellStepState<T> { tape?.state(k) ?? kept[k].state }

    /// The k-th step's pre-activations where kept, without copying its x and h rows out.
    @inlinable
    public func stepPreactivations(_ k: Int) -> Tensor<T>? {
        tape.map { $0.preactivations(k) } ?? kept[k].preactivations
    }

    /// The cache of the k-th step in processing order, 0 ≤ k < `cacheCount`.
    @inlinable
    public func stepCache(_ k: Int) -> CellStepCache<T> {
        guard let tape else { return kept[k] }
        let part = tape.part(k), bsz = outputs.shape[1], s = outputs.shape[2]
        func outputRows(_ j: Int) -> Tensor<T> {
            let position = tape.outputsInProcessingOrder ? j : steps[j]
            return Tensor(
                shape: [bsz, s], scalars: Array(outputs.scalars[(position * bsz * s)..<((position + 1) * bsz * s)]))
        }
        return CellStepCache(
            x: tape.x.slice(steps[k]), hPrev: k == 0 ? Tensor(shape: [bsz, s], scalars: tape.h0) : outputRows(k - 1),
            preactivations: part.preactivations, gates: part.gates, state: part.state, h: outputRows(k))
    }
}

/// What a run without a mask keeps of its step caches beside its input and outputs: a step's x is a block
/// of rows of the input, its h one of the outputs, and its h_prev the h of the step before it (h0 for the
/// first), so that each is stored once.
@usableFromInline
struct SequenceTape<T: KernelScalar>: Sendable {
    /// A step's cache less x, h_prev and h.
    @usableFromInline
    struct Part: Sendable {
        @usableFromInline var preactivations: Tensor<T>?
        @usableFromInline var gates: Tensor<T>
        @usableFromInline var state: CellStepState<T>

        @inlinable
        init(_ cache: CellStepCache<T>) {
            self.init(preactivations: cache.preactivations, gates: cache.gates, state: cache.state)
        }

        @inlinable
        init(preactivations: Tensor<T>?, gates: Tensor<T>, state: CellStepState<T>) {
            (self.preactivations, self.gates, self.state) = (preactivations, gates, state)
        }
    }

    /// The run's input, [T, B, I].
    @usableFromInline var x: Tensor<T>
    /// The state before the first step, [B, P].
    @usableFromInline var h0: [T]
    /// Whether the run's outputs are in processing order.
    @usableFromInline var outputsInProcessingOrder: Bool
    /// In processing order, one per step; empty when the fused pass wrote the caches (`fused`).
    @usableFromInline var parts: [Part]
    /// The caches the fused pass wrote (`fusedSequenceRun` keeping them).
    @usableFromInline var fused: FusedCaches?

    /// Every step's part of the caches, in processing order, as the fused pass wrote them (`buffers`):
    /// step k's gates [B, G·H] and its state [B, H], the LSTM's c after the step (with c0 [B, H] before the
    /// first) or the GRU's reset input.
    @usableFromInline
    struct FusedCaches: Sendable {
        @usableFromInline var batch: Int
        @usableFromInline var isLSTM: Bool
        @usableFromInline var buffers: StepCacheBuffers<T>
        @usableFromInline var c0: [T]

        @inlinable
        init(batch: Int, isLSTM: Bool, buffers: StepCacheBuffers<T>, c0: [T]) {
            (self.batch, self.isLSTM, self.buffers, self.c0) = (batch, isLSTM, buffers, c0)
        }

        @inlinable
        var steps: Int { buffers.gates.count }

        /// Buffer `p` of n elements as a [B, n / B] tensor.
        @inlinable
        func rows(_ p: UnsafeMutablePointer<T>?, count n: Int) -> Tensor<T> {
            Tensor(shape: [batch, n / Swift.max(1, batch)], scalars: Array(UnsafeBufferPointer(start: p, count: n)))
        }

        /// Step k's gates, [B, G·H].
        @inlinable
        func gates(_ k: Int) -> Tensor<T> { rows(buffers.gates[k], count: buffers.gateCount) }

        @inlinable
        func state(_ k: Int) -> CellStepState<T> {
            let c = rows(buffers.states[k], count: buffers.stateCount)
            guard isLSTM else { return .gru(resetInput: c) }
            let cPrev =
                k == 0 ? Tensor(shape: c.shape, scalars: c0) : rows(buffers.states[k - 1], count: buffers.stateCount)
            return .lstm(cPrev: cPrev, c: c, unprojected: nil)
        }
    }

    @inlinable
    init(x: Tensor<T>, h0: [T], outputsInProcessingOrder: Bool, parts: [Part]) {
        self.x = x
        self.h0 = h0
        self.outputsInProcessingOrder = outputsInProcessingOrder
        self.parts = parts
        self.fused = nil
    }

    @inlinable
    init(x: Tensor<T>, h0: [T], outputsInProcessingOrder: Bool, fused: FusedCaches) {
        self.init(x: x, h0: h0, outputsInProcessingOrder: outputsInProcessingOrder, parts: [])
        self.fused = fused
    }

    /// How many steps the tape holds.
    @inlinable
    var count: Int { fused?.steps ?? parts.count }

    /// Step k's state (LSTM c_prev and c, GRU reset input).
    @inlinable
    func state(_ k: Int) -> CellStepState<T> { fused?.state(k) ?? parts[k].state }

    /// Step k's pre-activations where kept (never by the fused pass).
    @inlinable
    func preactivations(_ k: Int) -> Tensor<T>? { fused == nil ? parts[k].preactivations : nil }

    /// Step k's part of the caches.
    @inlinable
    func part(_ k: Int) -> Part {
        guard let fused else { return parts[k] }
        return Part(preactivations: nil, gates: fused.gates(k), state: fused.state(k))
    }
}

/// The step caches the fused pass writes (`fusedSequenceRun` keeping them): for each step a buffer of its
/// gates ([B, G·H], `gateCount` elements) and one of its state ([B, H], `stateCount`: the LSTM's c, the
/// GRU's reset input), freed with the tape. One allocation per buffer and step, as the step-by-step path
/// makes, rather than one for all steps: glibc maps a block of 32 MB or more, and the trimming of its heap
/// returns a large free block, so that a run's caches in one block fault in fresh zeroed pages on every run.
/// A float64 LSTM forward+BPTT at T=128 B=32 I=128 H=256 (33.5 MB of gates) took about 13,000 page faults
/// a run that way, about 10 ms of its forward's 55; blocks of up to 24 MB 9,700; a buffer per step 3,600.
/// Written only by the kernel, before the tape holds them; read only after.
@usableFromInline
final class StepCacheBuffers<T: KernelScalar>: @unchecked Sendable {
    @usableFromInline let gates: [UnsafeMutablePointer<T>?]
    @usableFromInline let states: [UnsafeMutablePointer<T>?]
    @usableFromInline let gateCount: Int
    @usableFromInline let stateCount: Int

    @inlinable
    init(steps: Int, gates: Int, state: Int) {
        (gateCount, stateCount) = (gates, state)
        self.gates = (0..<steps).map { _ in UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, gates)) }
        self.states = (0..<steps).map { _ in UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, state)) }
    }

    @inlinable
    deinit {
        for p in gates { p?.deallocate() }
        for p in states { p?.deallocate() }
    }
}

/// Rows of x whose input part a run that keeps its caches computes at once (`runSequence`).
@usableFromInline
let cachedProjectionRows = 512

/// The mask of per-sequence lengths: step t of sequence b is real when t < lengths[b]; [T, B].
@inlinable
public func lengthMask(lengths: [Int], steps: Int) -> Tensor<Bool> {
    var m = [Bool]()
    m.reserveCapacity(steps * lengths.count)
    for t in 0..<steps { for l in lengths { m.append(t < l) } }
    return Tensor(shape: [steps, lengths.count], scalars: m)
}

/// Runs a cell over a sequence.
///
///     h_t, c_t = cell(x_t, h_{t∓1}, c_{t∓1})   for t = 0…T−1 (forward) or T−1…0 (reverse)
///
/// At a masked step (mask[t, b] false) sequence b keeps its state, and its output is 0 or the
/// previous output (`maskedOutput`). With lengths as the mask, the reverse direction therefore
/// starts at each sequence's last real step, and the final state is the one after the last real step.
///
/// Arguments:
///   - x: [T, B, I]. - h0: [B, P], zeros if nil. - c0: [B, H] (LSTM), zeros if nil.
///   - mask: [T, B], all real if nil.
///   - outputsInProcessingOrder: write output k at position k of processing (Keras `go_backwards`)
///     instead of at its time index.
///   - keepCaches: keep every step's cache for a backward pass; false for a forward pass alone,
///     which then holds one step's intermediates at a time (`caches` is empty). The caches hold each
///     value once: the gate values, and the pre-activations only where the backward step reads them
///     (`backwardReadsPreactivations`); the input part is then computed a block of steps at a time
///     (`cachedProjectionRows` rows), not beside every step's gates. Without a mask, probes, kept
///     pre-activations or cell states, for a cell the fused pass runs (`fusedSequenceKind`) and where it
///     computes the same bits (`fusedKeepsCaches`), the caches are written by that pass.
///   - keepPreactivations: keep the pre-activations in the caches as well (`preactivations(of:)`).
///   - recordCellStates: LSTM: keep the cell state after every step in `cellStates` (MLX's LSTM
///     returns them all; Flax reads its carry at a per-sequence step).
///   - probeH, probeC: values added to the states after every step (`RecurrentCell.probed`), [T, B, P]
///     and [T, B, H] (LSTM), indexed by time; nil adds nothing. Probes need the caches.
/// - Note: the input part of every gate is computed for all steps at once, one matrix product.
@inlinable
public func runSequence<T: KernelScalar>(
    _ cell: RecurrentCell<T>, x: Tensor<T>, h0: Tensor<T>? = nil, c0: Tensor<T>? = nil,
    mask: Tensor<Bool>? = nil, direction: SequenceDirection = .forward,
    maskedOutput: MaskedStepOutput = .zero, outputsInProcessingOrder: Bool = false, keepCaches: Bool = true,
    keepPreactivations: Bool = false, recordCellStates: Bool = false, probeH: Tensor<T>? = nil, probeC: Tensor<T>? = nil
) -> SequenceRun<T> {
    precondition(x.rank == 3, "runSequence: x must be [T, B, I], found \(x.shape)")
    let steps = x.shape[0], bsz = x.shape[1], s = cell.stateSize, h = cell.hiddenSize
    let isLSTM = cell.conventions.kind == .lstm
    let probed = probeH != nil || probeC != nil
    precondition(!probed || keepCaches, "runSequence: probes need the step caches (keepCaches: true)")
    if let probeH { precondition(probeH.shape == [steps, bsz, s], "runSequence: probeH \(probeH.shape)") }
    if let probeC {
        precondition(
            cell.acceptsCellStateProbe && probeC.shape == [steps, bsz, h], "runSequence: probeC \(probeC.shape)")
    }
    if let mask { precondition(mask.shape == [steps, bsz], "runSequence: mask \(mask.shape) for x \(x.shape)") }
    // Every step without a mask runs fused where the cell allows (bit-identical), keeping what a backward pass
    // reads when asked, unless probes, pre-activations or cell states are wanted too.
    let fusedCaches = keepCaches && !probed && !keepPreactivations && !cell.backwardReadsPreactivations
    if mask == nil && !recordCellStates && (!keepCaches || fusedCaches),
        let run = cell.fusedSequenceRun(
            x: x, h0: h0, c0: c0, direction: direction, outputsInProcessingOrder: outputsInProcessingOrder,
            order: direction == .forward ? Array(0..<steps) : Array((0..<steps).reversed()), keepCaches: keepCaches)
    {
        return run
    }
    var hState = (h0 ?? Tensor(zeros: [bsz, s])).scalars
    var cState: [T]? = isLSTM ? (c0 ?? Tensor(zeros: [bsz, h])).scalars : nil
    var out = [T](repeating: 0, count: steps * bsz * s)
    var cellOut = [T](repeating: 0, count: isLSTM && recordCellStates ? steps * bsz * h : 0)
    var prevOut = [T](repeating: 0, count: bsz * s)
    // Without a mask every step's x, h_prev and h are rows of the input and the outputs: the tape keeps the
    // rest of each cache (`SequenceTape`).
    let onTape = keepCaches && mask == nil
    var caches = [CellStepCache<T>](), parts = [SequenceTape<T>.Part]()
    if keepCaches { if onTape { parts.reserveCapacity(steps) } else { caches.reserveCapacity(steps) } }
    let hFirst = hState
    let order = direction == .forward ? Array(0..<steps) : Array((0..<steps).reversed())
    let gh = cell.conventions.kind.gateCount * h
    // The input part of every gate, for a block of `blockSteps` steps (all of them without caches).
    let blockSteps = keepCaches ? Swift.max(1, cachedProjectionRows / Swift.max(bsz, 1)) : Swift.max(steps, 1)
    let rowScalars = bsz * cell.inputSize
    var projected = [T](), block = -1
    let dropPreactivations = keepCaches && !keepPreactivations && !cell.backwardReadsPreactivations
    let split = cell.sequenceSplit(batch: bsz)
    // A forward pass alone reuses one step's buffers (no cache, no per-step tensors), where the cell
    // allows (`forwardInPlace`).
    let conv = cell.conventions
    let inPlace = !keepCaches && !(conv.kind == .gru && conv.resetPlacement == .beforeMatmul)
    var buffers = StepBuffers<T>(
        pre: inPlace ? [T](repeating: 0, count: bsz * gh) : [],
        gates: inPlace ? [T](repeating: 0, count: bsz * gh) : [],
        kind: conv.kind, batch: inPlace ? bsz : 0, hidden: h)
    for (k, t) in order.enumerated() {
        if t / blockSteps != block {
            block = t / blockSteps
            let lo = block * blockSteps, hi = Swift.min(steps, lo + blockSteps)
            projected =
                lo == 0 && hi == steps
                ? cell.projectInputs(x.scalars, rows: steps * bsz)
                : cell.projectInputs(Array(x.scalars[(lo * rowScalars)..<(hi * rowScalars)]), rows: (hi - lo) * bsz)
        }
        let first = (t - block * blockSteps) * bsz * gh, stepRange = first..<(first + bsz * gh)
        var hNew: [T], cNew: [T]?
        if inPlace {
            buffers.pre.withUnsafeMutableBufferPointer { dst in
                projected.withUnsafeBufferPointer { src in
                    dst.baseAddress!.update(from: src.baseAddress! + stepRange.lowerBound, count: stepRange.count)
                }
            }
            cell.forwardInPlace(&buffers, batch: bsz, hPrev: hState, cPrev: cState ?? [], split: split)
            switch conv.kind {
            case .rnn: hNew = buffers.gates
            case .gru: hNew = buffers.hOut
            case .lstm: hNew = cell.lstmState(buffers.m, rows: bsz)
            }
            cNew = isLSTM ? buffers.c : nil
        } else {
            var cache = cell.forward(
                x: x.slice(t), projected: Array(projected[stepRange]),
                hPrev: Tensor(shape: [bsz, s], scalars: hState),
                cPrev: cState.map { Tensor(shape: [bsz, h], scalars: $0) }, split: split)
            if probed { cache = cell.probed(cache, h: probeH?.slice(t), c: probeC?.slice(t)) }
            if dropPreactivations { cache.preactivations = nil }
            hNew = cache.h.scalars
            cNew = cache.cellState?.scalars
            if onTape { parts.append(.init(cache)) } else if keepCaches { caches.append(cache) }
        }
        var y = hNew
        if let mask {
            for b in 0..<bsz where !mask.scalars[t * bsz + b] {
                for j in 0..<s {
                    hNew[b * s + j] = hState[b * s + j]
                    y[b * s + j] = maskedOutput == .zero ? 0 : prevOut[b * s + j]
                }
                if let cs = cState { for j in 0..<h { cNew![b * h + j] = cs[b * h + j] } }
            }
        }
        let position = outputsInProcessingOrder ? k : t
        out.replaceSubrange((position * bsz * s)..<((position + 1) * bsz * s), with: y)
        prevOut = y
        hState = hNew
        if let cNew {
            cState = cNew
            if !cellOut.isEmpty {
                cellOut.replaceSubrange((position * bsz * h)..<((position + 1) * bsz * h), with: cNew)
            }
        }
    }
    var run = SequenceRun(
        outputs: Tensor(shape: [steps, bsz, s], scalars: out), hLast: Tensor(shape: [bsz, s], scalars: hState),
        cLast: cState.map { Tensor(shape: [bsz, h], scalars: $0) },
        caches: caches, steps: order)
    if onTape {
        run.tape = SequenceTape(x: x, h0: hFirst, outputsInProcessingOrder: outputsInProcessingOrder, parts: parts)
    }
    if isLSTM && recordCellStates { run.cellStates = Tensor(shape: [steps, bsz, h], scalars: cellOut) }
    return run
}

extension RecurrentCell {
    /// Whether a probe on the cell state can be added after a step: an LSTM without peepholes or
    /// projection (o and h are then exactly o ⊙ act(c), recomputed from the probed c).
    @inlinable
    public var acceptsCellStateProbe: Bool {
        let p = parameters
        return conventions.kind == .lstm && p.projection == nil && p.peepholeI == nil && p.peepholeF == nil
            && p.peepholeO == nil
    }

    /// A step's cache with probes added to its states, so that the gradient reaching every state is the
    /// gradient with respect to an input, which central differences can check:
    ///
    ///     c' = c + probeC,   h' = o ⊙ act(c') + probeH     (LSTM)
    ///     h' = h + probeH                                 (RNN, GRU)
    ///
    /// The returned cache holds c' and h', which the next step and the head read. With zero probes the
    /// values are the step's own (up to rounding); a backward pass over probed steps then reports
    /// dh[t] = dL/dprobeH_t and dc[t] = dL/dprobeC_t (`cellSequenceBackward`).
    ///
    /// - Parameters: - h: [B, P], nil for none. - c: [B, H], nil for none; only where `acceptsCellStateProbe`.
    @inlinable
    public func probed(_ step: CellStepCache<T>, h probeH: Tensor<T>?, c probeC: Tensor<T>?) -> CellStepCache<T> {
        precondition(
            probeC == nil || acceptsCellStateProbe, "probed: a c probe needs an LSTM without peepholes or projection")
        var cache = step
        if let probeC, case .lstm(let cPrev, let cStep, _) = cache.state {
            precondition(probeC.shape == cStep.shape, "probed: a c probe \(probeC.shape) for c \(cStep.shape)")
            let o = cache.gate(.o, of: conventions).scalars
            var c = cStep.scalars, hNew = c
            for k in 0..<c.count { c[k] += probeC.scalars[k] }
            // h = o ⊙ act(c), with the buffer form of act the cell itself uses.
            c.withUnsafeBufferPointer { cb in
                hNew.withUnsafeMutableBufferPointer { conventions.outputActivation.apply(cb, into: $0) }
            }
            for k in 0..<hNew.count { hNew[k] *= o[k] }
            cache.state = .lstm(cPrev: cPrev, c: Tensor(shape: cStep.shape, scalars: c), unprojected: nil)
            cache.h = Tensor(shape: cache.h.shape, scalars: hNew)
        }
        if let probeH {
            precondition(probeH.shape == cache.h.shape, "probed: an h probe \(probeH.shape) for h \(cache.h.shape)")
            for k in 0..<probeH.count { cache.h.scalars[k] += probeH.scalars[k] }
        }
        return cache
    }

    /// The gate pre-activations of every step of a run of this cell, in time order, [T, B, G*H] (from
    /// the run's caches).
    ///
    /// - Precondition: the run kept its caches with their pre-activations (`keepPreactivations`), one per step.
    @inlinable
    public func preactivations(of run: SequenceRun<T>) -> Tensor<T> {
        let steps = run.outputs.shape[0], bsz = run.outputs.shape[1], gh = conventions.kind.gateCount * hiddenSize
        precondition(
            run.cacheCount == steps, "preactivations: the run kept \(run.cacheCount) caches for \(steps) steps")
        var out = [T](repeating: 0, count: steps * bsz * gh)
        for (k, t) in run.steps.enumerated() {
            guard let pre = run.stepPreactivations(k) else {
                preconditionFailure("preactivations: the run kept no pre-activations (keepPreactivations: true)")
            }
            out.replaceSubrange((t * bsz * gh)..<((t + 1) * bsz * gh), with: pre.scalars)
        }
        return Tensor(shape: [steps, bsz, gh], scalars: out)
    }
}

/// Several directions of one layer, or several stacked layers of them.
public struct StackRun<T: KernelScalar>: Sendable {
    /// runs[layer][direction].
    public var runs: [[SequenceRun<T>]]
    /// The last layer's outputs, directions concatenated on the feature axis, [T, B, D*P].
    public var output: Tensor<T>

    /// Creates the result from its parts.
    @inlinable
    public init(runs: [[SequenceRun<T>]], output: Tensor<T>) {
        self.runs = runs
        self.output = output
    }
}

/// Runs stacked layers, each with one cell per direction; layer l+1 reads layer l's outputs with
/// the directions concatenated on the feature axis (forward first), as PyTorch's multi-layer modules do.
///
/// Arguments:
///   - layers: layers[l][d] is the cell of layer l, direction `directions[d]`.
///   - h0, c0: h0[l][d] ([B, P]) and c0[l][d] ([B, H]); nil for zeros.
///   - keepCaches, keepPreactivations: keep every step's cache, for a backward pass, and its
///     pre-activations (`runSequence`).
@inlinable
public func runStack<T: KernelScalar>(
    _ layers: [[RecurrentCell<T>]], directions: [SequenceDirection], x: Tensor<T>,
    h0: [[Tensor<T>?]]? = nil, c0: [[Tensor<T>?]]? = nil, mask: Tensor<Bool>? = nil,
    maskedOutput: MaskedStepOutput = .zero, keepCaches: Bool = true, keepPreactivations: Bool = false
) -> StackRun<T> {
    var input = x
    var runs = [[SequenceRun<T>]]()
    for (l, cells) in layers.enumerated() {
        precondition(
            cells.count == directions.count, "runStack: \(cells.count) cells for \(directions.count) directions")
        let layerRuns = cells.enumerated().map { d, cell in
            runSequence(
                cell, x: input, h0: h0?[l][d], c0: c0?[l][d], mask: mask, direction: directions[d],
                maskedOutput: maskedOutput, keepCaches: keepCaches, keepPreactivations: keepPreactivations)
        }
        runs.append(layerRuns)
        input = concatenatedLastAxis(layerRuns.map(\.outputs))
    }
    return StackRun(runs: runs, output: input)
}

/// Concatenates equally shaped tensors (but for the last axis) along the last axis.
@inlinable
public func concatenatedLastAxis<T: KernelScalar>(_ parts: [Tensor<T>]) -> Tensor<T> {
    guard let first = parts.first else { preconditionFailure("concatenatedLastAxis: no tensors") }
    if parts.count == 1 { return first }
    let outer = first.shape.dropLast().reduce(1, *)
    let widths = parts.map { $0.shape.last! }
    var out = [T]()
    out.reserveCapacity(outer * widths.reduce(0, +))
    for o in 0..<outer {
        for (p, w) in zip(parts, widths) { out.append(contentsOf: p.scalars[(o * w)..<((o + 1) * w)]) }
    }
    return Tensor(shape: Array(first.shape.dropLast()) + [widths.reduce(0, +)], scalars: out)
}

extension Tensor where Scalar: Sendable & Equatable {
    /// The tensor with its axes reordered: result axis k is axis `axes[k]` of self
    /// (NumPy's `transpose(axes)`); used for batch-first and direction layouts.
    @inlinable
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permuted: \(axes) for rank \(rank)")
        let newShape = axes.map { shape[$0] }
        var strides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { strides[k] = strides[k + 1] * shape[k + 1] }
        let count = scalars.count
        guard count > 0 else { return Tensor(shape: newShape, scalars: []) }
        var out = [Scalar]()
        out.reserveCapacity(count)
        var index = [Int](repeating: 0, count: rank)
        for _ in 0..<count {
            var src = 0
            for k in 0..<rank { src += index[k] * strides[axes[k]] }
            out.append(scalars[src])
            var k = rank - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < newShape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
        return Tensor(shape: newShape, scalars: out)
    }
}
