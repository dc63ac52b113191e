import RNNKernels

// Running a torch.nn recurrent module: its parameters, state_dict weights and inputs to the shared
// cell core and back, forward and (when upstream gradients are given) backward.
extension TorchRecurrentKernel {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let layers = try c.int("num_layers"), bidirectional = try c.bool("bidirectional"),
            batchFirst = try c.bool("batch_first")
        let d = bidirectional ? 2 : 1
        let hiddenSize = try c.int("hidden_size"), inputSize = try c.int("input_size")
        let projSize = kind == .lstm ? try c.int("proj_size") : 0
        let outSize = projSize > 0 ? projSize : hiddenSize
        let hasBias = try c.bool("bias")
        if projSize >= hiddenSize && projSize > 0 {
            throw KernelError.param("proj_size", "proj_size has to be smaller than hidden_size")
        }

        // input → [L, N, H_in].
        let raw: Tensor<T> = try c.real("input")
        let unbatched = raw.rank == 2
        var x = unbatched ? raw.reshaped([raw.shape[0], 1, raw.shape[1]]) : raw
        if batchFirst && !unbatched { x = x.permuted([1, 0, 2]) }
        let steps = x.shape[0], batch = x.shape[1]
        guard x.shape[2] == inputSize else {
            throw KernelError.input(
                "input", "input.size(-1) must be equal to input_size. Expected \(inputSize), got \(x.shape[2])")
        }

        // Weights, layer by layer, direction by direction.
        let allowed = Set(
            (0..<layers).flatMap { l in
                (bidirectional ? ["", "_reverse"] : [""]).flatMap { Self.weightNames(kind, layer: l, suffix: $0) }
            })
        for name in c.inputs.keys where name.hasPrefix("weight_") || name.hasPrefix("bias_") {
            if !allowed.contains(name) {
                throw KernelError.input(
                    name,
                    "\(name) is not in the state_dict of torch.nn.\(moduleName)(num_layers=\(layers), bidirectional=\(bidirectional))"
                )
            }
        }
        let conventions = try TorchRecurrentKernel.conventions(kind, c)
        let g = kind.gateCount
        var cells = [[RecurrentCell<T>]]()
        for l in 0..<layers {
            var row = [RecurrentCell<T>]()
            for suffix in (bidirectional ? ["", "_reverse"] : [""]) {
                let names = Self.weightNames(kind, layer: l, suffix: suffix)
                try c.requireInputs([names[0], names[1]], because: "layer \(l) of torch.nn.\(moduleName)")
                let wih: Tensor<T> = try c.real(names[0]), whh: Tensor<T> = try c.real(names[1])
                let layerIn = l == 0 ? inputSize : d * outSize
                guard wih.shape == [g * hiddenSize, layerIn] else {
                    throw KernelError.input(
                        names[0],
                        "\(names[0]) must be (\(g == 1 ? "" : "\(g)*")hidden_size, \(l == 0 ? "input_size" : "D*H_out")) = (\(g * hiddenSize), \(layerIn)), found \(wih.shape.shapeText)"
                    )
                }
                guard whh.shape == [g * hiddenSize, outSize] else {
                    throw KernelError.input(
                        names[1], "\(names[1]) must be (\(g * hiddenSize), \(outSize)), found \(whh.shape.shapeText)")
                }
                var p = CellParameters(w: wih, r: whh)
                if hasBias {
                    try c.requireInputs([names[2], names[3]], because: "bias is true")
                    p.bw = try c.real(names[2])
                    p.br = try c.real(names[3])
                } else {
                    try c.rejectInputs([names[2], names[3]], because: "bias is false")
                }
                if kind == .lstm {
                    if projSize > 0 {
                        try c.requireInputs([names[4]], because: "proj_size > 0")
                        let whr: Tensor<T> = try c.real(names[4])
                        guard whr.shape == [projSize, hiddenSize] else {
                            throw KernelError.input(
                                names[4],
                                "\(names[4]) must be (proj_size, hidden_size) = (\(projSize), \(hiddenSize)), found \(whr.shape.shapeText)"
                            )
                        }
                        p.projection = whr
                    } else {
                        try c.rejectInputs([names[4]], because: "proj_size is 0")
                    }
                }
                row.append(RecurrentCell(conventions: conventions, parameters: p))
            }
            cells.append(row)
        }

        // Initial states: (D*num_layers, N, ·), index layer*D + direction.
        func states(_ name: String, width: Int) throws -> [[Tensor<T>?]]? {
            guard var t: Tensor<T> = try c.optionalReal(name) else { return nil }
            if unbatched {
                guard t.rank == 2 else {
                    throw KernelError.input(
                        name,
                        "for unbatched input, \(name) must be 2-D (D*num_layers, \(width == outSize ? "H_out" : "H_cell")), found \(t.shape.shapeText)"
                    )
                }
                t = t.reshaped([t.shape[0], 1, t.shape[1]])
            }
            guard t.shape == [d * layers, batch, width] else {
                throw KernelError.input(
                    name,
                    "Expected \(name) size (D*num_layers, N, \(width == outSize && name == "h_0" ? "H_out" : "H_cell")) = (\(d * layers), \(batch), \(width)), got \(t.shape.shapeText)"
                )
            }
            return (0..<layers).map { l in (0..<d).map { k in t.slice(l * d + k) } }
        }
        let h0 = try states("h_0", width: outSize)
        let c0 = kind == .lstm ? try states("c_0", width: hiddenSize) : nil

        var mask: Tensor<Bool>? = nil
        var outSteps = steps
        if c.has("lengths") {
            let lengths = try c.integers("lengths").scalars
            guard lengths.count == batch else {
                throw KernelError.input("lengths", "lengths has \(lengths.count) entries for batch N = \(batch)")
            }
            if let bad = lengths.first(where: { $0 < 1 || $0 > steps }) {
                throw KernelError.input("lengths", "every length must be in 1...L = 1...\(steps), found \(bad)")
            }
            guard let longest = lengths.max() else {
                throw KernelError.input("lengths", "lengths needs at least one sequence (the batch N is 0)")
            }
            mask = lengthMask(lengths: lengths, steps: steps)
            outSteps = longest
            if let total = try c.optionalInt("total_length") {
                guard total >= longest else {
                    throw KernelError.param(
                        "total_length",
                        "Expected total_length to be at least the length of the longest sequence in input, but got total_length=\(total) and max sequence length being \(longest)"
                    )
                }
                outSteps = total
            }
        } else if c.params["total_length"] != nil {
            throw KernelError.param(
                "total_length", "total_length is pad_packed_sequence's: it needs lengths (a packed sequence)")
        }

        let directions: [SequenceDirection] = bidirectional ? [.forward, .reverse] : [.forward]
        // Step caches only for a backward pass.
        let backward = upstreams.contains(where: c.has)
        let run = runStack(
            cells, directions: directions, x: x, h0: h0, c0: c0, mask: mask, maskedOutput: .zero, keepCaches: backward)
        var output = run.output
        if outSteps != steps {
            // pad_packed_sequence: max(lengths) steps, or total_length (zeros past the input's steps).
            let w = output.shape.dropFirst().reduce(1, *)
            output = Tensor(
                shape: [outSteps] + Array(output.shape.dropFirst()),
                scalars: Array(output.scalars[0..<(min(outSteps, steps) * w)])
                    + [T](repeating: 0, count: max(0, outSteps - steps) * w))
        }
        var hN = Tensor.stacked(run.runs.flatMap { $0.map(\.hLast) }, innerShape: [batch, outSize])
        var cN =
            kind == .lstm
            ? Tensor.stacked(run.runs.flatMap { $0.map { $0.cLast! } }, innerShape: [batch, hiddenSize]) : nil
        if unbatched {
            output = output.reshaped([output.shape[0], output.shape[2]])
            hN = hN.reshaped([hN.shape[0], hN.shape[2]])
            cN = cN.map { $0.reshaped([$0.shape[0], $0.shape[2]]) }
        } else if batchFirst {
            output = output.permuted([1, 0, 2])
        }
        var out = KernelOutputs()
        out["output"] = .real(output)
        out["h_n"] = .real(hN)
        if let cN { out["c_n"] = .real(cN) }

        // Backward, when an upstream gradient is given: every step back to [L, N, ·] time-major.
        let upstream = try FrameworkGradients.given(
            c, [("output", output), ("h_n", hN), ("c_n", kind == .lstm ? cN : nil)])
        guard !upstream.isEmpty else { return out }
        out["loss"] = .real(upstreamLoss(upstream))
        func timeMajor(_ t: Tensor<T>) -> Tensor<T> {
            unbatched ? t.reshaped([t.shape[0], 1, t.shape[1]]) : batchFirst ? t.permuted([1, 0, 2]) : t
        }
        func perLayer(_ name: String) throws -> [[Tensor<T>?]]? {
            guard var t: Tensor<T> = try c.optionalReal(name) else { return nil }
            if unbatched { t = t.reshaped([t.shape[0], 1, t.shape[1]]) }
            return (0..<layers).map { l in (0..<d).map { k in t.slice(l * d + k) } }
        }
        var dOutput: Tensor<T>? = try c.optionalReal("doutput").map(timeMajor)
        if let dy = dOutput, outSteps != steps {
            // Steps past every length output 0, cut from output or padded onto it: no gradient reaches them.
            let w = dy.shape.dropFirst().reduce(1, *)
            dOutput = Tensor(
                shape: [steps] + Array(dy.shape.dropFirst()),
                scalars: Array(dy.scalars[0..<(min(outSteps, steps) * w)])
                    + [T](repeating: 0, count: max(0, steps - outSteps) * w))
        }
        let grads = try runStackBackward(
            cells, directions: directions, run: run, mask: mask, maskedOutput: .zero, dOutput: dOutput,
            dhLast: try perLayer("dh_n"), dcLast: try perLayer("dc_n"))
        var dx = grads.x
        dx = unbatched ? dx.reshaped([steps, inputSize]) : batchFirst ? dx.permuted([1, 0, 2]) : dx
        out["dinput"] = .real(dx)
        func stateGradient(_ parts: [Tensor<T>], width: Int) -> Tensor<T> {
            let t = Tensor.stacked(parts, innerShape: [batch, width])
            return unbatched ? t.reshaped([t.shape[0], width]) : t
        }
        out["dh_0"] = .real(stateGradient(grads.h0.flatMap { $0 }, width: outSize))
        if kind == .lstm { out["dc_0"] = .real(stateGradient(grads.c0.flatMap { $0.map { $0! } }, width: hiddenSize)) }
        for l in 0..<layers {
            for k in 0..<d {
                let names = Self.weightNames(kind, layer: l, suffix: k == 0 ? "" : "_reverse"), cg = grads.cells[l][k]
                out["d" + names[0]] = .real(cg.w)
                out["d" + names[1]] = .real(cg.r)
                if hasBias {
                    out["d" + names[2]] = .real(cg.bw)
                    out["d" + names[3]] = .real(cg.br)
                }
                if let proj = cg.projection { out["d" + names[4]] = .real(proj) }
            }
        }
        return out
    }
}
