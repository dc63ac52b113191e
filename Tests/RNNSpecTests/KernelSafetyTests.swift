import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// No kernel traps, hangs or exhausts memory because of its params or values: every integer param
/// has a range, every kernel declares the sizes its params imply (checked against --max-elements
/// before it runs), non-finite values never trap, and an adapter's mistake is an error.
@Suite final class KernelSafetyTests {
    static let registry = KernelRegistry.standard

    /// A kernel's `rnnspec new` skeleton, loaded.
    func skeletonCase(_ kernel: any Kernel, limits: LoadLimits = LoadLimits()) throws -> Case {
        let text = kernel.spec.skeleton()
        return try CaseLoader(limits: limits).load(
            data: Data(text.utf8), id: kernel.spec.name, displayPath: "\(kernel.spec.name).yaml")
    }

    /// The error a case text gives when loaded (nil if it loads).
    func loadError(_ text: String, limits: LoadLimits = LoadLimits()) -> String? {
        do {
            _ = try CaseLoader(limits: limits).load(data: Data(text.utf8), id: "c", displayPath: "c.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: 1. Ranges

    @Test func testEveryIntegerParamHasARange() {
        for kernel in Self.registry.kernels {
            for p in kernel.spec.params {
                guard case .integer(let lo, let hi) = p.type else { continue }
                XCTAssertNotNil(lo, "\(kernel.spec.name) param '\(p.name)' has no lower bound")
                XCTAssertNotNil(hi, "\(kernel.spec.name) param '\(p.name)' has no upper bound")
                guard let lo, let hi else { continue }
                // Only a seed may take every 64-bit integer; a count or size has a finite range.
                if !(lo == Int.min && hi == Int.max) {
                    XCTAssertLessThanOrEqual(
                        hi, 1_000_000_000_000,
                        "\(kernel.spec.name) param '\(p.name)': range \(lo)...\(hi) is too wide for a count")
                } else {
                    XCTAssertTrue(
                        p.name.contains("seed"), "\(kernel.spec.name) param '\(p.name)' takes any 64-bit integer")
                }
                // `rnnspec kernels NAME` shows it.
                XCTAssertTrue(kernel.spec.describe().contains("\(p.name): \(p.type.description)"))
                XCTAssertTrue(
                    p.type.description.contains("\(lo)...\(hi)") || p.type.description == "any 64-bit integer")
            }
        }
    }

    @Test func testAnOutOfRangeParamIsALocatedErrorNamingTheRange() throws {
        let error = try XCTUnwrap(
            loadError(
                """
                kernel: memory.decay
                params:
                  steps: 1000000000000
                inputs:
                  forget: [0.5]
                """))
        XCTAssertEqual(
            error,
            """
            c.yaml:3:10: error: param 'steps' must be an integer in 0...1000000000, found 1000000000000
              steps: 1000000000000
                     ^
            """)
        XCTAssertTrue(
            try XCTUnwrap(loadError("kernel: bptt.chunks\nparams: {length: 9223372036854775807, window: 1}\n"))
                .contains(
                    "c.yaml:2:18: error: param 'length' must be an integer in 0...1000000000000, found 9223372036854775807"
                ))
        XCTAssertTrue(
            try XCTUnwrap(loadError("kernel: bptt.chunks\nparams: {length: 10, window: 0}\n"))
                .contains("param 'window' must be an integer in 1...1000000000000, found 0"))
    }

    @Test func testNaNParamsAreRefusedAndInfinityOnlyWhereMeaningful() throws {
        let sample = """
            kernel: charrnn.sample
            params: {seed_index: 0, n: 3, seed: 1, temperature: TEMP}
            inputs:
              W_xh: {eye: 2}
              W_hh: {eye: 2}
              W_hy: {eye: 2}
            """
        XCTAssertTrue(
            try XCTUnwrap(loadError(sample.replacingOccurrences(of: "TEMP", with: ".nan")))
                .contains("c.yaml:2:53: error: param 'temperature' must be a number, found .nan"))
        XCTAssertTrue(
            try XCTUnwrap(loadError(sample.replacingOccurrences(of: "TEMP", with: ".inf")))
                .contains("param 'temperature' must be a finite number, found .inf"))
        XCTAssertNil(loadError(sample.replacingOccurrences(of: "TEMP", with: "0.5")))
        // A clip threshold of .inf clips nothing: meaningful, allowed.
        XCTAssertNil(loadError("kernel: grad.clip_norm\nparams: {max_norm: .inf}\ninputs:\n  g: [3.0, 4.0]\n"))
        XCTAssertTrue(
            try XCTUnwrap(loadError("kernel: grad.clip_norm\nparams: {max_norm: .nan}\ninputs:\n  g: [3.0, 4.0]\n"))
                .contains("param 'max_norm' must be a number, found .nan"))
    }

    // MARK: 2. Implied sizes

    /// Hostile sizes of each class: refused at load, with the numbers, before any allocation.
    @Test func testImpliedSizesOverTheLimitAreRefusedBeforeRunning() throws {
        let cases: [(String, String)] = [
            (
                "kernel: init.weights\nparams: {scheme: he, fan_in: 100000, fan_out: 100000, seed: 1}\n",
                "c.yaml:2:30: error: param 'fan_in' makes init.weights need 10000000000 elements for output 'W', [fan_in, fan_out] = [100000, 100000]; the limit is 50000000 per case (--max-elements)"
            ),
            (
                "kernel: memory.decay\nparams: {steps: 1000000000}\ninputs:\n  forget: [0.5, 0.9]\n",
                "c.yaml:2:17: error: param 'steps' makes memory.decay need 2000000000 elements for output 'remaining', [S, steps] = [2, 1000000000]"
            ),
            (
                "kernel: grad.repeated_scale\nparams: {steps: 1000000000}\ninputs:\n  scales: [0.5]\n",
                "param 'steps' makes grad.repeated_scale need 1000000000 elements for output 'values', [S, steps] = [1, 1000000000]"
            ),
            (
                "kernel: diag.gate_saturation\nparams: {bins: 1000000000}\ninputs:\n  gates: [0.5]\n",
                "c.yaml:2:16: error: param 'bins' makes diag.gate_saturation need 1000000001 elements for output 'edges'"
            ),
            (
                "kernel: bptt.chunks\nparams: {length: 1000000000000, window: 1}\n",
                "c.yaml:2:41: error: param 'window' makes bptt.chunks need 2000000000000 elements for output 'chunks', [windows, 2] = [1000000000000, 2]"
            ),
            (
                "kernel: bptt.chunks\nparams: {length: 1000000000000, window: 1000000000000, stride: 1}\n",
                "param 'stride' makes bptt.chunks need 2000000000000 elements"
            ),
            (
                "kernel: charrnn.sample\nparams: {seed_index: 0, n: 1000000000, seed: 1}\ninputs:\n  W_xh: {eye: 2}\n  W_hh: {eye: 2}\n  W_hy: {eye: 2}\n",
                "param 'n' makes charrnn.sample need 1000000000 elements for sampling steps"
            ),
            // Outputs larger than the inputs: N² from N, S × T from S + T, Q × S from zero-size inputs.
            (
                "kernel: activation.eval\ninputs:\n  x: {range: 100000}\n",
                "c.yaml:3:6: error: input 'x' makes activation.eval need 10000000000 elements for output 'softmax_jacobian', [N, N] = [100000, 100000]"
            ),
            (
                "kernel: memory.leaky\ninputs:\n  forget: {zeros: [100000]}\n  u: {zeros: [100000]}\n",
                "input 'u' makes memory.leaky need 10000000000 elements for output 's', [S, T] = [100000, 100000]"
            ),
            (
                "kernel: attention.dot\ninputs:\n  keys: {zeros: [100000, 0]}\n  query: {zeros: [100000, 0]}\n",
                "input 'query' makes attention.dot need 10000000000 elements for output 'scores', [Q, S] = [100000, 100000]"
            ),
            (
                "kernel: attention.context\ninputs:\n  weights: {zeros: [100000, 0]}\n  values: {zeros: [0, 100000]}\n",
                "input 'weights' makes attention.context need 10000000000 elements for output 'context', [Q, E] = [100000, 100000]"
            ),
            (
                "kernel: rnn.sequence\ninputs:\n  x: {zeros: [1000000000, 0]}\n  W_xh: {zeros: [1, 0]}\n  W_hh: [[0.5]]\n",
                // Refused by the loader already: an empty shape's other extents count against the limit.
                "input 'x': shape [1000000000, 0] is empty, but its non-zero extents multiply to 1000000000, over the limit of 50000000 elements per case"
            ),
            (
                "kernel: grad.jacobian_norms\ninputs:\n  x: {zeros: [100000, 0]}\n  W_xh: {zeros: [100, 0]}\n  W_hh: {zeros: [100, 100]}\n",
                "input 'x' makes grad.jacobian_norms need 1000000000 elements for output 'products', [T, H, H] = [100000, 100, 100]"
            ),
            // Zero-size inputs with a long time axis and a large state: tiny files, hours of arithmetic.
            (
                "kernel: rnn.sequence\ninputs:\n  x: {zeros: [100000, 0]}\n  W_xh: {zeros: [300, 0]}\n  W_hh: {zeros: [300, 300]}\n",
                "c.yaml:3:6: error: input 'x' makes rnn.sequence need 9000000000 multiply-adds for the time loop, [T, B, D, H, I + H + V] = [100000, 1, 1, 300, 300]; the limit is 5000000000 (100 per element of --max-elements 50000000)"
            ),
            (
                "kernel: charrnn.sample\nparams: {seed_index: 0, n: 400000, seed: 1}\ninputs:\n  W_xh: {eye: 100}\n  W_hh: {eye: 100}\n  W_hy: {eye: 100}\n",
                "param 'n' makes charrnn.sample need 8000000000 multiply-adds for the sampling steps, [n, H, H + V] = [400000, 100, 200]"
            ),
            (
                "kernel: grad.jacobian_norms\ninputs:\n  x: {zeros: [300, 0]}\n  W_xh: {zeros: [400, 0]}\n  W_hh: {zeros: [400, 400]}\n",
                "input 'x' makes grad.jacobian_norms need 19200000000 multiply-adds for the Jacobian products"
            ),
            (
                "kernel: onnx.GRU\ninputs:\n  X: {zeros: [5000, 1, 0]}\n  W: {zeros: [1, 3000, 0]}\n  R: {zeros: [1, 3000, 1000]}\n",
                "input 'X' makes onnx.GRU need 15000000000 multiply-adds for the time loop"
            ),
            (
                "kernel: rnn.sequence\ninputs:\n  x: {zeros: [0, 1099511627776, 0]}\n  W_xh: {zeros: [1, 0]}\n  W_hh: [[0.5]]\n",
                "c.yaml:3:14: error: input 'x': shape [0, 1099511627776, 0] is empty, but its non-zero extents multiply to 1099511627776, over the limit of 50000000 elements per case"
            ),
        ]
        for (text, expected) in cases {
            let start = Date()
            let error = loadError(text)
            XCTAssertLessThan(Date().timeIntervalSince(start), 2, text)
            guard let error else { XCTFail("loaded: \(text)"); continue }
            XCTAssertTrue(error.contains(expected), "\(text)\ngave: \(error)\nexpected: \(expected)")
        }
    }

    @Test func testTheLimitIsTheMaxElementsOption() throws {
        let text = "kernel: memory.decay\nparams: {steps: 1000}\ninputs:\n  forget: [0.5, 0.9]\n"
        XCTAssertNil(loadError(text))
        XCTAssertTrue(
            try XCTUnwrap(loadError(text, limits: LoadLimits(maxElements: 1999))).contains(
                "the limit is 1999 per case (--max-elements)"))
        XCTAssertNil(loadError(text, limits: LoadLimits(maxElements: 2000)))
    }

    @Test func testAnOverflowingProductIsRefusedWithoutTrapping() {
        let size = ImpliedSize("output 'x'", [("a", Int.max / 2), ("b", 3)], blame: "param:a")
        XCTAssertNil(size.count)
        XCTAssertEqual(ImpliedSize("x", [("a", 1 << 40), ("b", 0), ("c", 1 << 40)], blame: "input:x").count, 0)
        let spec = KernelSpec(
            name: "t.t", summary: "", inputs: [], outputs: [], hasPrecision: false, sizes: { _ in [size] })
        let problem = spec.sizeProblem(KernelContext(inputs: [:], params: [:]), limit: 100)
        XCTAssertEqual(problem?.blame, "param:a")
        XCTAssertTrue(problem?.message.contains("more than 2^63 elements (the product overflows 64 bits)") ?? false)
    }

    @Test func testParamCountsThatOverflowAreAnError() throws {
        let c = try CaseLoader().load(
            data: Data(
                "kernel: params.count\nparams: {cell: lstm, input_size: 1000000000, hidden_size: 1000000000, layers: 1000, directions: 2, steps: 5}\n"
                    .utf8),
            id: "c", displayPath: "c.yaml")
        XCTAssertThrowsError(try Runner.execute(c)) { error in
            XCTAssertTrue("\(error)".contains("the parameter count overflows 64 bits"), "\(error)")
        }
        XCTAssertNil(checkedParameterCount(cell: .lstm, inputSize: Int.max, hiddenSize: 2))
        XCTAssertEqual(
            checkedParameterCount(cell: .lstm, inputSize: 10, hiddenSize: 20, layers: 2, directions: 2, biasVectors: 2),
            parameterCount(cell: .lstm, inputSize: 10, hiddenSize: 20, layers: 2, directions: 2, biasVectors: 2))
    }

    /// The declaration covers what the kernel really produces: on every kernel's skeleton, each
    /// output is no larger than the inputs' elements or a declared size.
    @Test func testDeclaredSizesCoverEveryOutputOfEverySkeleton() throws {
        for kernel in Self.registry.kernels {
            let c = try skeletonCase(kernel)
            let context = KernelContext(inputs: c.inputs, params: c.params, dims: c.dims)
            let declared = try kernel.spec.sizes(context).compactMap(\.count).max() ?? 0
            let inputElements = c.inputs.values.map(\.elementCount).reduce(0, +)
            let outputs = try Runner.execute(c)
            for (name, value) in outputs.entries {
                XCTAssertLessThanOrEqual(
                    value.elementCount, max(declared, inputElements, 3),
                    "\(kernel.spec.name): output '\(name)' is larger than its inputs and than any size the kernel declares"
                )
            }
        }
    }

    // MARK: 3. Non-finite values and extreme params never trap

    /// Every kernel, with NaN, +inf and -inf in each real input (all of it, and one element) and each
    /// param at its range's ends: outputs or an error, never a trap (which would kill this test process).
    @Test func testEveryKernelSurvivesNonFiniteInputsAndExtremeParams() throws {
        let limit = 100_000
        var runs = 0
        // Every kernel's skeleton, and the suite's small cases (other params, layouts and heads).
        for base in try baseCases(elements: 64) {
            let kernel = base.kernel
            func attempt(_ c: Case, _ what: String) {
                let context = KernelContext(inputs: c.inputs, params: c.params, dims: c.dims)
                if kernel.spec.sizeProblem(context, limit: limit) != nil { return }
                let start = Date()
                do {
                    _ = try Runner.execute(c)
                    if c.params["dtype"] != nil {
                        var f = c
                        f.params["dtype"] = .string("float32")
                        _ = try? Runner.execute(f)
                    }
                } catch is SpecError {
                } catch {
                    XCTFail("\(kernel.spec.name) \(what): \(error) is not a located error")
                }
                runs += 1
                XCTAssertLessThan(Date().timeIntervalSince(start), 5, "\(kernel.spec.name) \(what) took too long")
            }
            attempt(base, "skeleton")
            // Real inputs: every element, or the first, replaced.
            for (name, value) in base.inputs {
                for special in [Double.nan, .infinity, -.infinity] {
                    for all in [true, false] {
                        guard let replaced = substitute(value, special, all: all) else { continue }
                        var c = base
                        c.inputs[name] = replaced
                        attempt(c, "\(name) \(all ? "all" : "one") \(special)")
                    }
                }
            }
            // Params at the ends of their ranges, and numbers at extremes (those the loader lets through).
            for p in kernel.spec.params {
                var values: [ParamValue] = []
                switch p.type {
                case .integer(let lo, let hi):
                    values = [lo, hi, lo.map { $0 &+ 1 }, hi.map { $0 &- 1 }].compactMap { $0 }.map(ParamValue.integer)
                case .real:
                    values = ([.nan, .infinity, -.infinity, 0, -1, 1e308, -1e308, .leastNonzeroMagnitude] as [Double])
                        .map(ParamValue.real)
                case .realList:
                    values = [.realList([.nan]), .realList([.infinity, -1e308]), .realList([])]
                default: break
                }
                for v in values where p.problem(with: v) == nil {
                    var c = base
                    c.params[p.name] = v
                    attempt(c, "param \(p.name) = \(v)")
                }
            }
        }
        XCTAssertGreaterThan(runs, 500)
    }

    /// The kernels' skeletons and the suite's cases with at most `elements` input elements.
    func baseCases(elements: Int) throws -> [Case] {
        var bases = try Self.registry.kernels.map { try skeletonCase($0) }
        for c in Self.suiteCases where c.inputs.values.map(\.elementCount).reduce(0, +) <= elements {
            bases.append(c)
        }
        return bases
    }

    /// The repository's cases that load, read once for the tests here (loading the whole suite takes
    /// seconds in a debug build).
    static let suiteCases: [Case] = {
        let project = try! Project.locate(workingDirectory: repositoryRoot.path)
        return try! project.caseFiles([]).compactMap { file in
            try? CaseLoader().load(url: file.url, id: file.id, displayPath: file.id)
        }
    }()

    /// Every kernel with each shape symbol set to 0 in every input that uses it (T = 0 steps, B = 0
    /// sequences, H = 0 units, ...), and with each axis of each input set to 0 alone, through the
    /// loader: outputs or a located error, never a trap.
    @Test func testEveryKernelSurvivesZeroExtents() throws {
        var loaded = 0
        // Variants with a huge extent are kept in a seeded sample of one in eight (all of them with
        // RNNSPEC_FULL_TESTS=1): the loader refuses them, their non-zero extents multiplying past the limit.
        var sample = SeededStream(seed: 0x2E50)
        for base in try baseCases(elements: 64) {
            let kernel = base.kernel
            var variants: [[String: Value]] = []
            // A huge extent beside a zero one: a zero-size tensor whose extents multiply to more than the
            // kernel may allocate.
            let huge = 1 << 23
            let symbols = base.dims.keys.sorted()
            for symbol in symbols {
                for other in [nil] + symbols.filter({ $0 != symbol })
                where other == nil || fullTests || sample.next() % 8 == 0 {
                    var bindings = base.dims
                    bindings[symbol] = 0
                    if let other { bindings[other] = huge }
                    var inputs = base.inputs
                    var feasible = true
                    for (name, value) in base.inputs {
                        guard let spec = kernel.spec.input(name),
                            let declared = spec.shapes.first(where: { $0.count == value.shape.count })
                        else { continue }
                        let shape = zip(declared, value.shape).map { dim, extent in
                            dim.isWildcard ? extent : (try? dim.evaluate(bindings)) ?? extent
                        }
                        guard shape != value.shape else { continue }
                        guard ImpliedSize("", shape.map { ("", $0) }, blame: "").count.map({ $0 <= 1_000 }) ?? false,
                            let v = zeros(like: value, shape: shape)
                        else { feasible = false; break }
                        inputs[name] = v
                    }
                    if feasible { variants.append(inputs) }
                }
            }
            for (name, value) in base.inputs {
                for axis in value.shape.indices where value.shape[axis] != 0 {
                    for other in [nil] + value.shape.indices.filter({ $0 != axis })
                    where other == nil || fullTests || sample.next() % 8 == 0 {
                        var shape = value.shape
                        shape[axis] = 0
                        if let other { shape[other] = huge }
                        guard let v = zeros(like: value, shape: shape) else { continue }
                        var inputs = base.inputs
                        inputs[name] = v
                        variants.append(inputs)
                    }
                }
            }
            for inputs in variants {
                var text = "kernel: \(kernel.spec.name)\nparams:\n"
                for (name, value) in base.params.sorted(by: { $0.key < $1.key }) { text += "  \(name): \(value)\n" }
                text += "inputs:\n"
                let literals = inputs.sorted(by: { $0.key < $1.key }).map { ($0.key, yaml($0.value)) }
                guard literals.allSatisfy({ $0.1 != nil }) else { continue }
                for (name, literal) in literals { text += "  \(name): \(literal!)\n" }
                guard
                    let c = try? CaseLoader(limits: LoadLimits(maxElements: 100_000)).load(
                        data: Data(text.utf8), id: "z", displayPath: "z.yaml")
                else { continue }
                loaded += 1
                // A trap kills the process before XCTFail can name the case: KERNEL_SAFETY_TRACE=1 prints each one first.
                if ProcessInfo.processInfo.environment["KERNEL_SAFETY_TRACE"] != nil {
                    FileHandle.standardError.write(Data("---\n\(text)".utf8))
                }
                do { _ = try Runner.execute(c) } catch is SpecError {} catch {
                    XCTFail("\(kernel.spec.name): \(error) is not a located error\n\(text)")
                }
            }
        }
        XCTAssertGreaterThan(loaded, 100)
    }

    func zeros(like value: Value, shape: [Int]) -> Value? {
        switch value {
        case .real: return .real(RealTensor(Tensor<Double>(zeros: shape)))
        case .integer: return .integer(Tensor<Int>(repeating: 0, shape: shape))
        case .string: return .string(Tensor<String>(repeating: "a", shape: shape))
        case .boolean: return .boolean(Tensor<Bool>(repeating: true, shape: shape))
        case .list: return nil
        }
    }

    /// A value as a case file writes it (nil where no literal can: an empty integer tensor of rank > 1).
    func yaml(_ value: Value) -> String? {
        func nested(_ shape: [Int], _ items: [String]) -> String {
            guard let first = shape.first else { return items[0] }
            let inner = Array(shape.dropFirst()), width = inner.reduce(1, *)
            return "["
                + (0..<first).map { k in nested(inner, Array(items[(k * width)..<((k + 1) * width)])) }.joined(
                    separator: ", ") + "]"
        }
        switch value {
        case .real(let r):
            if r.tensor.count == 0 { return "{zeros: \(r.shape.shapeText)}" }
            return nested(r.shape, r.tensor.scalars.map { NumberText.format($0) })
        case .integer(let t):
            if t.count == 0 { return t.shape.count == 1 ? "[]" : nil }
            return nested(t.shape, t.scalars.map(String.init))
        case .string(let t):
            if t.count == 0 { return t.shape.count == 1 ? "[]" : nil }
            return nested(t.shape, t.scalars.map(YAMLText.scalar))
        case .boolean(let t):
            if t.count == 0 { return t.shape.count == 1 ? "[]" : nil }
            return nested(t.shape, t.scalars.map { $0 ? "true" : "false" })
        case .list(let items):
            let parts = items.compactMap(yaml)
            return parts.count == items.count ? "[" + parts.joined(separator: ", ") + "]" : nil
        }
    }

    func substitute(_ value: Value, _ special: Double, all: Bool) -> Value? {
        switch value {
        case .real(let r):
            guard r.tensor.count > 0 else { return nil }
            var t = r.tensor
            for i in (all ? Array(t.scalars.indices) : [0]) { t.scalars[i] = special }
            return .real(RealTensor(t))
        case .list(let items):
            let parts = items.map { substitute($0, special, all: all) ?? $0 }
            return .list(parts)
        default: return nil
        }
    }

    @Test func testTheHistogramNeverTrapsOnInfiniteOrHugeRanges() {
        for range in [
            (-Double.infinity, 1.0), (0, Double.infinity), (-1e308, 1e308), (-Double.infinity, Double.infinity),
        ] {
            let h = histogram([0.5, 1.0, -1e308, 1e308, .infinity, -.infinity, .nan], bins: 7, range: range)
            XCTAssertEqual(h.counts.count, 7)
        }
        let g = gateSaturation([0.5, .infinity], low: 0.05, high: 0.95, bins: 10)
        XCTAssertEqual(g.counts.count, 10)
        XCTAssertEqual(histogram([0.0, 0.5, 1.0], bins: 2, range: (0, 1)).counts, [1, 2])
    }

    @Test func testGateSaturationWithAnInfiniteValueNeedsARange() throws {
        let error = try XCTUnwrap(
            loadErrorAfterRunning("kernel: diag.gate_saturation\ninputs:\n  gates: [0.5, .inf]\n"))
        XCTAssertTrue(
            error.contains(
                "c.yaml:3:10: error: the histogram range from the values is not finite (found inf); give range_low and range_high"
            ), error)
        XCTAssertNil(
            loadErrorAfterRunning(
                "kernel: diag.gate_saturation\nparams: {range_low: 0, range_high: 1}\ninputs:\n  gates: [0.5, .inf, -.inf]\n"
            ))
    }

    @Test func testBPTTChunksNearTheRangeEndsDoNotOverflow() throws {
        XCTAssertEqual(bpttChunks(length: Int.max, window: Int.max).map { [$0.start, $0.stop] }, [[0, Int.max]])
        XCTAssertEqual(
            bpttChunks(length: 10, window: Int.max, stride: 6).map { [$0.start, $0.stop] }, [[0, 10], [6, 10]])
        XCTAssertNil(
            loadErrorAfterRunning("kernel: bptt.chunks\nparams: {length: 1000000000000, window: 1000000000000}\n"))
    }

    /// Loads and runs a case; the error text, or nil when it ran.
    func loadErrorAfterRunning(_ text: String) -> String? {
        do {
            let c = try CaseLoader().load(data: Data(text.utf8), id: "c", displayPath: "c.yaml")
            _ = try Runner.execute(c)
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: 4. Accessors throw

    @Test func testParamAccessorsThrowInsteadOfTrapping() {
        let c = KernelContext(inputs: [:], params: ["n": .string("x"), "s": .integer(1)])
        XCTAssertThrowsError(try c.int("n"))
        XCTAssertThrowsError(try c.int("missing"))
        XCTAssertThrowsError(try c.double("n"))
        XCTAssertThrowsError(try c.bool("s"))
        XCTAssertThrowsError(try c.string("s"))
        XCTAssertThrowsError(try c.choice("n", as: CellKind.self))
        XCTAssertThrowsError(try c.integerList("s"))
        XCTAssertThrowsError(try c.realList(param: "n"))
        XCTAssertThrowsError(try c.optionalStringList("s"))
        XCTAssertThrowsError(try c.optionalInt("n"))
        XCTAssertEqual(try c.optionalInt("missing"), nil)
        XCTAssertEqual(try c.int("s"), 1)
    }

    /// An adapter that reads a param it did not declare gives one UNRESOLVED case, not a dead run.
    @Test func testAnAdapterMistakeIsAnUnresolvedCase() throws {
        let loader = CaseLoader(registry: KernelRegistry(kernels: [UndeclaredParamKernel()]))
        let c = try loader.load(data: Data("kernel: broken.kernel\ninputs: {}\n".utf8), id: "c", displayPath: "c.yaml")
        XCTAssertThrowsError(try Runner.execute(c)) { error in
            XCTAssertTrue(
                "\(error)".contains(
                    "c.yaml:1:9: error: param 'undeclared' is not a declared integer (a bug in the kernel's adapter)"),
                "\(error)")
        }
    }

    /// In a run, an adapter that reads a param the case does not have makes that one case
    /// UNRESOLVED with a located error; the run goes on and the other cases pass.
    @Test func testAnAdapterReadingAMissingParamFailsOnlyItsCase() throws {
        let p = try TempProject()
        try p.writeCase("broken", "kernel: broken.kernel\ninputs: {}\n")
        try p.writeCase("step", simpleStepCase)
        try p.writeCase("step2", simpleStepCase)
        _ = try p.run(["cases/step.yaml", "cases/step2.yaml"], record: .missing)
        var options = RunOptions()
        options.jobs = 1
        let registry = KernelRegistry.standard.registering([UndeclaredParamKernel()])
        let report = try Runner(project: p.project, options: options, registry: registry).run(paths: [])
        XCTAssertEqual(report.results.map(\.id), ["broken", "step", "step2"])
        let broken = try XCTUnwrap(report.results.first { $0.id == "broken" })
        XCTAssertEqual(broken.status, .unresolved)
        let text = broken.error.map { "\($0)" } ?? "(no error)"
        XCTAssertTrue(
            text.contains(
                "cases/broken.yaml:1:9: error: param 'undeclared' is not a declared integer (a bug in the kernel's adapter)"
            ), text)
        XCTAssertEqual(report.results.filter { $0.id != "broken" }.map(\.status), [.pass, .pass])
    }
}

/// A kernel whose adapter reads a param it did not declare (a case cannot give it).
private struct UndeclaredParamKernel: Kernel {
    let spec = KernelSpec(
        name: "broken.kernel", summary: "reads an undeclared param", inputs: [],
        outputs: [OutputSpec("x", "[]", "x")], hasPrecision: false, sizes: KernelSpec.boundedByInputs)
    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
        var out = KernelOutputs()
        out["x"] = .integer(try c.int("undeclared"))
        return out
    }
}
