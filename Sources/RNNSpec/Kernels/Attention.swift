import RNNKernels

/// `attention.dot`: dot-product attention with a stable softmax, optional scale and mask.
struct AttentionDotKernel: Kernel {
    let spec = KernelSpec(
        name: "attention.dot",
        summary:
            "Dot-product attention: scores = scale * keys . query, weights = stable softmax, context = weights . values",
        doc: """
            scores_s = scale * <query, key_s>; weights = exp(scores - max) / sum over unmasked positions;
            context = sum_s weights_s * values_s. values default to the keys (the encoder states, as in the seeds).
            scale: a number, or scaled: true for 1/sqrt(D). mask: 1 may attend, 0 may not (weight 0);
            every position masked gives NaN weights. query may be one vector [D] or several [Q, D].
            """,
        inputs: [
            .real("keys", ["S", "D"], "encoder states attended over", example: "[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]"),
            InputSpec("query", shapes: [["D"], ["Q", "D"]], doc: "decoder state(s)", example: "[0.5, -0.5]"),
            .real(
                "values", ["S", "E"], optional: true, "what is averaged (defaults to keys)",
                example: "[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]"),
            .real("mask", ["S"], optional: true, "1 where attention is allowed, 0 where not", example: "[1, 1, 0]"),
        ],
        params: [
            ParamSpec("scale", .real, optional: true, "multiplies the scores (default 1)"),
            ParamSpec(
                "scaled", .boolean, default: .boolean(false), "scale by 1/sqrt(D) (scaled dot-product attention)"),
        ],
        outputs: [
            OutputSpec("scores", "[S] or [Q, S]", "scaled dot products, before masking"),
            OutputSpec("weights", "[S] or [Q, S]", "softmax of the unmasked scores"),
            OutputSpec("context", "[E] or [Q, E]", "weights . values"),
        ],
        plots: [
            .heatmap(
                title: "Attention weights over the encoder states", value: "weights", x: "encoder position s",
                y: "query")
        ],
        sizes: { c in
            let q = c.dim("Q"), s = c.dim("S", otherwise: 0),
                e = c.has("values") ? c.dim("E", otherwise: 0) : c.dim("D", otherwise: 0)
            return [
                ImpliedSize("output 'scores'", [("Q", q), ("S", s)], blame: "input:query"),
                ImpliedSize("output 'context'", [("Q", q), ("E", e)], blame: "input:query"),
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        if try c.bool("scaled") && c.optionalDouble("scale") != nil {
            throw KernelError.param("scale", "give either scale or scaled: true, not both")
        }
        let keys: Tensor<T> = try c.real("keys"), query: Tensor<T> = try c.real("query")
        let values: Tensor<T> = try c.optionalReal("values") ?? keys
        let mask: Tensor<T>? = try c.optionalReal("mask")
        let d = keys.shape[1]
        let scale: T = try c.bool("scaled") ? 1 / T(d).squareRoot() : T(try c.optionalDouble("scale") ?? 1)
        let single = query.rank == 1
        let r = dotAttention(
            query: single ? query.reshaped([1, d]) : query, keys: keys, values: values, scale: scale,
            mask: mask?.scalars)
        func shaped(_ t: Tensor<T>) -> Tensor<T> { single ? t.reshaped([t.shape[1]]) : t }
        var out = KernelOutputs()
        out["scores"] = .real(shaped(r.scores))
        out["weights"] = .real(shaped(r.weights))
        out["context"] = .real(shaped(r.context))
        return out
    }
}

/// `attention.context`: the attention-weighted average of encoder states.
struct AttentionContextKernel: Kernel {
    let spec = KernelSpec(
        name: "attention.context",
        summary: "Attention context = weights . encoder states",
        doc: """
            context[e] = sum_s weights[s] * values[s, e]; weights may be one row [S] or several [Q, S].
            The weights are used as given (no normalisation); S = 0 gives zeros.
            """,
        inputs: [
            InputSpec("weights", shapes: [["S"], ["Q", "S"]], doc: "attention weights", example: "[0.2, 0.3, 0.5]"),
            .real("values", ["S", "E"], "encoder states", example: "[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]"),
        ],
        outputs: [
            OutputSpec("context", "[E] or [Q, E]", "weights . values")
        ],
        plots: [
            .heatmap(
                title: "Attention weights over the encoder states", value: "weights", x: "encoder position s",
                y: "query")
        ],
        sizes: { c in
            [
                ImpliedSize(
                    "output 'context'", [("Q", c.dim("Q")), ("E", c.dim("E", otherwise: 0))], blame: "input:weights")
            ]
        })

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let w: Tensor<T> = try c.real("weights"), v: Tensor<T> = try c.real("values")
        let single = w.rank == 1
        let ctx = attentionContext(weights: single ? w.reshaped([1, w.count]) : w, values: v)
        var out = KernelOutputs()
        out["context"] = .real(single ? ctx.reshaped([ctx.shape[1]]) : ctx)
        return out
    }
}

/// `decode.teacher_forcing`: the decoder input per step under teacher forcing and free running.
struct TeacherForcingKernel: Kernel {
    let spec = KernelSpec(
        name: "decode.teacher_forcing",
        summary: "Decoder input per step: gold[t-1] under teacher forcing, the model's pred[t-1] under free running",
        doc: """
            For t = 1..T-1: teacher_input = gold[t-1], free_input = pred[t-1]; differs marks the steps where the
            two regimes feed different tokens. With start, step 0 is fed the start token under both.
            """,
        inputs: [
            InputSpec("gold", .string, shapes: [["T"]], doc: "the target tokens", example: "[I, like, math, <EOS>]"),
            InputSpec(
                "pred", .string, shapes: [["T"]], doc: "the model's predicted tokens",
                example: "[I, like, pizza, <EOS>]"),
        ],
        params: [
            ParamSpec("start", .string, optional: true, "a start-of-sequence token fed at step 0")
        ],
        outputs: [
            OutputSpec("steps", .integer, "[T-1]", "the step numbers t"),
            OutputSpec("teacher_input", .string, "[T-1]", "gold[t-1]"),
            OutputSpec("free_input", .string, "[T-1]", "pred[t-1]"),
            OutputSpec("differs", .boolean, "[T-1]", "whether the two inputs differ"),
        ],
        hasPrecision: false,
        sizes: KernelSpec.boundedByInputs)

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        let r = decoderInputs(
            gold: try c.strings("gold").scalars, prediction: try c.strings("pred").scalars,
            start: try c.optionalString("start"))
        var out = KernelOutputs()
        out["steps"] = .integers(r.steps)
        out["teacher_input"] = .string(Tensor(r.teacherForcing))
        out["free_input"] = .string(Tensor(r.freeRunning))
        out["differs"] = .boolean(Tensor(r.differs))
        return out
    }
}
