import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecCLI

/// `charrnn.train`: the article's model trained as a case, against rnn.bptt, the NumPy script's numbers and bad input.
@Suite final class CharRNNTrainTests {
    var repoProject: Project { try! Project.locate(workingDirectory: repositoryRoot.path) }

    func load(_ text: String, limits: LoadLimits = LoadLimits()) throws -> Case {
        try CaseLoader(limits: limits).load(data: Data(text.utf8), id: "c", displayPath: "c.yaml")
    }

    /// The error of loading and running a case text, nil when it runs.
    func error(_ text: String) -> String? {
        do {
            _ = try Runner.execute(try load(text))
            return nil
        } catch {
            return "\(error)"
        }
    }

    func reals(_ outputs: KernelOutputs, _ name: String) throws -> [Double] {
        guard case .real(let r)? = outputs[name] else { throw KernelError.invalid("no real output \(name)") }
        return r.tensor.scalars
    }

    /// One SGD iteration is rnn.bptt's gradients on the first chunk (one-hot rows, the next characters as
    /// targets) applied by hand: W − lr · dW, bit for bit, with rnn.bptt's loss and gradient norm.
    @Test func testOneSGDIterationIsRNNBPTTGradientsAppliedByHand() throws {
        let draws = """
            rng: {numpy: legacy, seed: 5}
            inputs:
              W_xh: {draw: randn, size: [4, 8], times: 0.1}
              W_hh: {draw: randn, size: [4, 4], times: 0.1}
              W_hy: {draw: randn, size: [8, 4], times: 0.1}
              b_h: [0.01, -0.02, 0.03, 0.0]
              b_y: [0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.1]
            """
        // "hello world": vocabulary [" ", d, e, h, l, o, r, w]; chunk "hello " → targets "ello w".
        let train = try Runner.execute(
            try load(
                "kernel: charrnn.train\nparams: {seq_length: 6, iterations: 1, optimizer: sgd, base_lr: 0.5}\n"
                    + draws + "\n  text: \"hello world\"\n"))
        let onehot = [3, 2, 4, 4, 5, 0].map { ix in
            "[" + (0..<8).map { $0 == ix ? "1" : "0" }.joined(separator: ", ") + "]"
        }
        let bpttCase = try load(
            "kernel: rnn.bptt\n" + draws + "\n  x: [\(onehot.joined(separator: ", "))]\n  targets: [2, 4, 4, 5, 0, 7]\n"
        )
        let bptt = try Runner.execute(bpttCase)
        XCTAssertEqual(try reals(train, "loss"), try reals(bptt, "loss"))
        XCTAssertEqual(try reals(train, "grad_norm"), try reals(bptt, "grad_norm"))
        XCTAssertEqual(try reals(train, "lr"), [0.5])
        for name in ["W_xh", "W_hh", "W_hy", "b_h", "b_y"] {
            guard case .real(let w0)? = bpttCase.inputs[name] else { return XCTFail(name) }
            let byHand = zip(w0.tensor.scalars, try reals(bptt, "d" + name)).map { $0 + -0.5 * $1 }
            XCTAssertEqual(try reals(train, name), byHand, name)
        }
        XCTAssertEqual(try reals(train, "h"), Array(try reals(bptt, "h").suffix(4)))
        guard case .string(let vocab)? = train["vocab"] else { return XCTFail("vocab") }
        XCTAssertEqual(vocab.scalars, [" ", "d", "e", "h", "l", "o", "r", "w"])
    }

    /// init_seed draws what the case-level `rng: {numpy: legacy}` draws in the article's order: the same training.
    @Test func testInitSeedDrawsTheArticlesWeights() throws {
        let common =
            "kernel: charrnn.train\nparams: {seq_length: 4, iterations: 3, hidden_size: 5, sample_n: 10, sample_seed: 3MORE}\n"
        let seeded = try Runner.execute(
            try load(
                common.replacingOccurrences(of: "MORE", with: ", init_seed: 11") + "inputs:\n  text: \"abcabcabd\"\n"))
        let drawn = try Runner.execute(
            try load(
                common.replacingOccurrences(of: "MORE", with: "") + """
                    rng: {numpy: legacy, seed: 11}
                    inputs:
                      text: "abcabcabd"
                      W_hh: {draw: randn, size: [5, 5], times: 0.01}
                      W_xh: {draw: randn, size: [5, 4], times: 0.01}
                      W_hy: {draw: randn, size: [4, 5], times: 0.01}
                    """ + "\n"))
        for (name, value) in seeded.entries { XCTAssertEqual(value, drawn[name], name) }
    }

    /// The article's cases: their expect values are the NumPy script's whole curves, final weights and
    /// sample, and the kernel meets them (the runner's expectation stage, as `rnnspec run`; that run, a
    /// few seconds each in a debug build, is SuiteTests' run of every case, and here too with
    /// RNNSPEC_FULL_TESTS=1).
    @Test func testTheArticleCasesMatchTheNumPyScript() throws {
        if fullTests {
            var options = RunOptions()
            options.filter = "article/charrnn_train_*"
            let report = try Runner(project: repoProject, options: options).run(paths: [])
            XCTAssertEqual(report.results.count, 3)
            for result in report.results {
                XCTAssertTrue(result.status.isSuccess, "\(result.id): \(result.detailText())")
            }
        }
        XCTAssertEqual(try repoProject.caseFiles([]).filter { $0.id.hasPrefix("article/charrnn_train_") }.count, 3)
        let runner = Runner(project: repoProject, options: RunOptions())
        var optimizers: Set<String> = [], dtypes: Set<String> = []
        for file in try repoProject.caseFiles([]) where file.id.hasPrefix("article/charrnn_train_") {
            let c = try runner.load(url: file.url, id: file.id)
            let iterations = try XCTUnwrap(
                c.params["iterations"].flatMap { if case .integer(let k) = $0 { k } else { nil } })
            XCTAssertGreaterThanOrEqual(iterations, 300, file.id)
            let expected = Dictionary(uniqueKeysWithValues: c.expectations.map { ($0.output, $0.expectation) })
            for name in [
                "loss", "smooth_loss", "grad_norm", "lr", "W_xh", "W_hh", "W_hy", "b_h", "b_y", "sample", "sample_text",
            ] {
                let e = try XCTUnwrap(expected[name], "\(file.id) has no expect '\(name)'")
                XCTAssertTrue(
                    e.source?.contains("tools/reference/charrnn_train.py") ?? false,
                    "\(file.id) \(name): \(e.source ?? "no source")")
                if ["loss", "smooth_loss", "grad_norm", "lr"].contains(name) {
                    XCTAssertEqual(e.value.shape, [iterations], "the whole curve")
                }
            }
            // The loss falls clearly.
            guard case .real(let loss)? = expected["loss"]?.value else { return XCTFail("loss") }
            XCTAssertLessThan(
                loss.tensor.scalars.suffix(10).reduce(0, +), 0.05 * loss.tensor.scalars.prefix(10).reduce(0, +), file.id
            )
            if case .string(let o)? = c.params["optimizer"] { optimizers.insert(o) }
            if case .string(let d)? = c.params["dtype"] { dtypes.insert(d) }
            guard case .string(let text)? = c.inputs["text"], let body = text.scalars.first else {
                return XCTFail("text")
            }
            XCTAssertTrue((20...40).contains(sortedVocabulary(body).count), file.id)
        }
        XCTAssertEqual(optimizers, ["sgd", "adagrad"])
        XCTAssertEqual(dtypes, ["float64", "float32"])
    }

    /// `rnnspec show` prints the declared curves compactly: first, last, min and every k-th value.
    @Test func testShowPrintsTheLossCurveCompactly() throws {
        XCTAssertEqual(
            CaseOutputsText.curveSummary("loss", [5, 4, 3.5, 3.25, 1, 2, 0.5, 0.75, 0.625, 0.6, 0.59, 0.58]),
            """
            loss, 12 values: first 5 [0], last 0.58 [11], min 0.5 [6]
              every k-th, k = 2: [0] 5  [2] 3.5  [4] 1  [6] 0.5  [8] 0.625  [10] 0.59  [11] 0.58

            """)
        XCTAssertEqual(
            CaseOutputsText.curveSummary("x", [.nan, 2]),
            "x, 2 values: first nan [0], last 2 [1], min 2 [1]\n  every k-th, k = 1: [0] nan  [1] 2\n")
        XCTAssertEqual(CaseOutputsText.curveSummary("x", []), "x, 0 values\n")
        // A short training run, shown: the outputs, then the three declared curves.
        let p = try TempProject()
        try p.writeCase(
            "train",
            "kernel: charrnn.train\nparams: {seq_length: 5, iterations: 40, hidden_size: 8, init_seed: 42}\ninputs:\n  text: \"hello world, hello moon\\n\"\n"
        )
        let box = OutputBox()
        let fe = FrontEnd(project: p.project, environment: [:], stdout: { box.append($0) }, stderr: { _ in })
        XCTAssertEqual(try fe.show(casePath: "cases/train.yaml", npz: nil, options: RunOptions()), .success)
        let c = try Runner(project: p.project, options: RunOptions()).load(
            url: p.root.appendingPathComponent("cases/train.yaml"), id: "train")
        let outputs = try Runner.execute(c)
        var curves = ""
        for name in ["loss", "smooth_loss", "grad_norm"] {
            curves += CaseOutputsText.curveSummary(name, try reals(outputs, name))
        }
        let printed = box.text
        XCTAssertTrue(printed.hasPrefix("train (cases/train.yaml): charrnn.train\n"), printed)
        XCTAssertTrue(
            printed.contains("\nloss: float64 [40]\n  computed:") && printed.contains("\nsmooth_loss: float64 [40]\n"),
            printed)
        XCTAssertTrue(printed.hasSuffix(curves), printed)
        // 5 characters · ln V, V = 12: p ≈ 1/V at first
        XCTAssertTrue(curves.hasPrefix("loss, 40 values: first 12.42"), curves)
        XCTAssertTrue(curves.contains("\n  every k-th, k = 4: [0] "), curves)
    }

    @Test func testBadInputIsALocatedError() throws {
        let base =
            "kernel: charrnn.train\nparams: {seq_length: 4, iterations: 2, hidden_size: 3, init_seed: 1PARAMS}\ninputs:\n  text: TEXT\n"
        func run(_ params: String = "", text: String = "\"abcabcab\"", more: String = "") -> String? {
            error(
                base.replacingOccurrences(of: "PARAMS", with: params).replacingOccurrences(of: "TEXT", with: text)
                    + more)
        }
        XCTAssertNil(run())
        XCTAssertTrue(
            run(text: "\"abc\"")?.contains("c.yaml:2:22: error: seq_length 4 needs a text of at least 5 characters")
                ?? false, run(text: "\"abc\"") ?? "")
        XCTAssertTrue(
            run(more: "  vocab: [a, b]\n")?.contains(
                "c.yaml:4:9: error: the text's character \"c\" (at position 2) is not in the vocabulary") ?? false)
        XCTAssertTrue(run(more: "  vocab: [a, b, c, a]\n")?.contains("vocab lists \"a\" twice") ?? false)
        XCTAssertTrue(run(more: "  vocab: [a, bc, c]\n")?.contains("each vocab entry is one character") ?? false)
        XCTAssertTrue(
            run(more: "  W_hh: {eye: 3}\n")?.contains(
                "c.yaml:5:9: error: init_seed draws the initial weights; give either init_seed or the weight inputs, not both"
            ) ?? false)
        XCTAssertTrue(
            error("kernel: charrnn.train\nparams: {seq_length: 2, iterations: 1}\ninputs:\n  text: abc\n")?
                .contains(
                    "give the initial weights W_xh, W_hh and W_hy (missing: W_xh, W_hh, W_hy), or init_seed and hidden_size"
                ) ?? false)
        XCTAssertTrue(run(", base_lr: 0")?.contains("base_lr must be > 0") ?? false)
        XCTAssertTrue(run(", decay_steps: -1")?.contains("decay_steps must be > 0") ?? false)
        XCTAssertTrue(run(", sample_seed_index: 3")?.contains("sample_seed_index must be < V = 3") ?? false)
        XCTAssertTrue(run(", optimizer: adam")?.contains("param 'optimizer'") ?? false)
        // Weights for another vocabulary.
        XCTAssertTrue(
            error(
                "kernel: charrnn.train\nparams: {seq_length: 2, iterations: 1}\ninputs:\n  text: abc\n  W_xh: {zeros: [2, 4]}\n  W_hh: {zeros: [2, 2]}\n  W_hy: {zeros: [4, 2]}\n"
            )?
            .contains("W_xh has 4 columns but the vocabulary has 3 characters") ?? false)
    }

    /// Hostile sizes are refused when the case loads, before anything is allocated or trained.
    @Test func testHugeSizesAreRefusedBeforeRunning() throws {
        let cases: [(String, String)] = [
            (
                "params: {seq_length: 2, iterations: 1000000000, hidden_size: 8, init_seed: 1}",
                "error: param 'iterations' makes charrnn.train need 4000000000 elements for the curves, [4 curves, iterations] = [4, 1000000000]"
            ),
            (
                "params: {seq_length: 2, iterations: 1, hidden_size: 100000, init_seed: 1}",
                "param 'hidden_size' makes charrnn.train need 30002400000 elements for the weights, gradients and Adagrad memories"
            ),
            (
                "params: {seq_length: 2, iterations: 100000, hidden_size: 1000, init_seed: 1}",
                "param 'iterations' makes charrnn.train need"
            ),
            (
                "params: {seq_length: 2, iterations: 1, hidden_size: 8, init_seed: 1, sample_n: 1000000000}",
                "param 'sample_n' makes charrnn.train need"
            ),
            (
                "params: {seq_length: 1000000000, iterations: 1, hidden_size: 8, init_seed: 1}",
                "param 'seq_length' makes charrnn.train need"
            ),
        ]
        for (params, expected) in cases {
            let start = Date()
            do {
                _ = try load("kernel: charrnn.train\n\(params)\ninputs:\n  text: \"abcabc\"\n")
                XCTFail("loaded: \(params)")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(params)\ngave: \(error)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        }
    }
}
