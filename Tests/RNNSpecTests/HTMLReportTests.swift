import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec

/// The HTML report: self-contained, escaped, drawn from what the run produced, with every plot a
/// kernel declares, a heatmap for a mismatch, and a page even when cases crash.
@Suite final class HTMLReportTests {
    func html(_ p: TempProject, _ paths: [String] = []) throws -> (RunReport, String) {
        let report = try p.run(paths) { $0.keepArtifacts = true }
        return (report, report.html(info: RunInfo(commit: "abc1234")))
    }

    @Test func testCaseTextIsEscapedAndThePageFetchesNothing() throws {
        let p = try TempProject()
        try p.writeCase(
            "odd/a",
            """
            kernel: rnn.step
            title: "</title><script>alert(1)</script>"
            source: "\\"><img src=x onerror=alert(2)>"
            tags: ["<b>bold</b>", "a&b"]
            notes: "<iframe>"
            inputs:
              x: [1.0, -1.0]
              h_prev: [0.5, 0.0]
              W_xh: {eye: 2}
              W_hh: {eye: 2, scale: 0.5}
            expect:
              h: {value: [0.5, 0.5], source: "<svg onload=alert(3)>"}

            """)
        let (_, page) = try html(p)
        for bad in ["<script", "<img", "<iframe", "<b>", "<svg onload"] {
            XCTAssertFalse(page.contains(bad), "\(bad) reached the page unescaped")
        }
        XCTAssertTrue(page.contains("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(page.contains("&lt;b&gt;bold&lt;/b&gt;"))
        XCTAssertTrue(page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"))
        // Self-contained: no script, no stylesheet link, nothing fetched (the SVG namespace is a name, not a fetch).
        for fetch in ["<link", "src=\"", "@import", "url(http", "href=\"http"] {
            XCTAssertFalse(page.contains(fetch), "the page refers to \(fetch)")
        }
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        XCTAssertTrue(page.contains("<meta name=\"viewport\""))
    }

    @Test func testEveryDeclaredPlotIsDrawnFromTheSuitesOwnCases() throws {
        // For each kernel that declares plots, its first case in the real suite (not an edge case: an
        // empty sequence has nothing to draw).
        let project = try Project.locate(workingDirectory: repositoryRoot.path)
        let files = try project.caseFiles([])
        var paths: [String] = [], byKernel: [String: String] = [:]
        for kernel in KernelRegistry.standard.names {
            guard let k = KernelRegistry.standard.kernel(named: kernel), !k.spec.plots.isEmpty else { continue }
            let file = files.first { f in
                !f.id.contains("_edge_")
                    && ((try? String(contentsOf: f.url, encoding: .utf8)) ?? "").contains("kernel: \(kernel)\n")
            }
            let f = try XCTUnwrap(file, "no case runs \(kernel), which declares plots")
            paths.append(f.url.path)
            byKernel[kernel] = f.id
        }
        XCTAssertGreaterThanOrEqual(byKernel.count, 9)
        // Cases with a gradcheck: fast (its table of directions) and full (the scatter).
        paths.append(
            repositoryRoot.appendingPathComponent("cases/gradients/grad_through_time_rnn_large_T50_probe.yaml").path)
        paths.append(repositoryRoot.appendingPathComponent("cases/article/bptt_forward_backward.yaml").path)
        var options = RunOptions()
        options.keepArtifacts = true
        options.jobs = 2
        let report = try Runner(project: project, options: options).run(paths: paths)
        XCTAssertEqual(report.failed, 0, report.text())
        let page = report.html(info: RunInfo())
        let cards = page.components(separatedBy: "<details class=\"card")
        for (kernel, id) in byKernel {
            let card = try XCTUnwrap(cards.first { $0.contains("<span class=\"id\">\(id)</span>") }, id)
            for plot in KernelRegistry.standard.kernel(named: kernel)!.spec.plots {
                let title: String
                switch plot {
                case .lines(let t, _, _, _, _, _, _), .histogram(let t, _, _, _, _), .heatmap(let t, _, _, _),
                    .trajectories(let t, _), .temperatureSweep(let t, _, _, _):
                    title = t
                }
                XCTAssertTrue(
                    card.contains("<title>\(escapeForTest(title))"), "\(id) (\(kernel)) lacks its plot '\(title)'")
            }
        }
        let probe = try XCTUnwrap(cards.first { $0.contains("grad_through_time_rnn_large_T50_probe</span>") })
        XCTAssertTrue(
            probe.contains(
                "<p>Fast check: the analytic gradient's projections g·u on 4 random unit directions (seed 0)"), probe)
        XCTAssertEqual(
            probe.components(separatedBy: "<td>ok</td>").count, 5, "four directions, each within its allowance")
        let full = try XCTUnwrap(cards.first { $0.contains("article/bptt_forward_backward</span>") })
        XCTAssertTrue(full.contains("<title>dW_hh: analytic against finite differences</title>"))
        XCTAssertTrue(full.contains("class=\"band\""))
        // The log-scale gradient-norm plot says which axis it is.
        XCTAssertTrue(probe.contains("log y axis"))
        // Passing cards are collapsed.
        XCTAssertFalse(page.contains("<details class=\"card s-pass\" id=\"case-0\" open>"))
    }

    @Test func testEveryPlotNamesDeclaredOutputsInputsAndParams() {
        for kernel in KernelRegistry.standard.names {
            let spec = KernelRegistry.standard.kernel(named: kernel)!.spec
            func output(_ n: String) {
                XCTAssertNotNil(spec.output(n), "\(kernel): a plot names the undeclared output '\(n)'")
            }
            func input(_ n: String?) {
                if let n { XCTAssertNotNil(spec.input(n), "\(kernel): a plot names the undeclared input '\(n)'") }
            }
            func param(_ n: String) {
                XCTAssertNotNil(spec.param(n), "\(kernel): a plot names the undeclared param '\(n)'")
            }
            for plot in spec.plots {
                switch plot {
                case let .lines(_, outputs, _, _, _, rowsFrom, _): outputs.forEach(output); input(rowsFrom)
                case let .histogram(_, counts, edges, _, thresholds):
                    output(counts); output(edges); thresholds.forEach(param)
                case let .heatmap(_, value, _, _):
                    XCTAssertTrue(
                        spec.output(value) != nil || spec.input(value) != nil,
                        "\(kernel): '\(value)' is neither an output nor an input")
                case let .trajectories(_, name): output(name)
                case let .temperatureSweep(_, p, temperature, labels): output(p); param(temperature); input(labels)
                }
            }
        }
    }

    @Test func testAFailingSequenceShowsItsHeatmapWorstElementAndDivergenceStep() throws {
        let p = try TempProject()
        try p.writeCase(
            "seq",
            """
            kernel: rnn.sequence
            title: a short sequence
            inputs:
              x: {random: normal, shape: [4, 2], seed: 1}
              h0: [0.0, 0.0, 0.0]
              W_xh: {random: normal, shape: [3, 2], seed: 2, std: 0.5}
              W_hh: {random: normal, shape: [3, 3], seed: 3, std: 0.5}
              b_h: [0.0, 0.0, 0.0]

            """)
        XCTAssertEqual(try p.run(record: .missing).passed, 1)
        // Move h[2][1] and h[3][0] in the golden: the divergence starts at step 2, the worst is h[3][0].
        var lines = try XCTUnwrap(p.golden("seq")).components(separatedBy: "\n")
        let hStart = try XCTUnwrap(lines.firstIndex(of: "  h:"))
        let rows = lines.indices.filter { $0 > hStart && lines[$0].hasPrefix("      - [") }.prefix(4)
        func move(_ line: Int, _ column: Int, by delta: Double) {
            var values = lines[line].dropFirst(9).dropLast().components(separatedBy: ", ").map { Double($0)! }
            values[column] += delta
            lines[line] = "      - [" + values.map { "\($0)" }.joined(separator: ", ") + "]"
        }
        move(rows[rows.startIndex + 2], 1, by: 1e-4)
        move(rows[rows.startIndex + 3], 0, by: 1e-2)
        try lines.joined(separator: "\n").write(to: p.goldenURL("seq"), atomically: true, encoding: .utf8)

        let (report, page) = try html(p)
        XCTAssertEqual(report.results[0].status, .fail)
        XCTAssertTrue(page.contains("<details class=\"card s-fail\" id=\"case-0\" open>"), "a failing card is open")
        XCTAssertTrue(page.contains("<title>|actual − golden| of h</title>"))
        XCTAssertTrue(page.contains("class=\"worst\"><title>worst element: row 3, column 0</title>"))
        XCTAssertTrue(page.contains("class=\"divergence\"><title>first diverging step: 2</title>"))
        XCTAssertTrue(
            page.contains("first differs at t = 2 of 4"), "the step from the mismatch, on the declared time axis")
        XCTAssertTrue(page.contains("✗ 2 of 12 differ"))
        // The summary: counts by result, folder and kernel, the slowest cases, a link to what failed, the run.
        for part in [
            "<h3>By result</h3>", "<h3>By folder</h3>", "By kernel (1)", "<h3>Slowest cases</h3>",
            "<h3>Not passing</h3><ul class=\"bad-list\"><li><span class=\"badge b-fail\">FAIL</span> <a href=\"#case-0\">seq</a></li>",
            "<dt>rnnspec</dt><dd>commit abc1234</dd>", "<dt>machine</dt>",
        ] {
            XCTAssertTrue(page.contains(part), part)
        }
        // Without keepArtifacts a run keeps no outputs.
        XCTAssertNil(try p.run().results[0].artifacts)
    }

    @Test func testMismatchMapFindsWorstElementAndFirstDivergingRow() throws {
        let t = Tolerance(abs: 1e-6, rel: 0)
        let actual: [Double] = [0, 0, 1, 0, 0, .nan], expected: [Double] = [0, 0, 1, 0.5, 0, 0]
        func real(_ x: [Double]) -> Value { .real(RealTensor(Tensor(shape: [3, 2], scalars: x), dtype: .float64)) }
        // The map takes the worst element and the first differing row from the comparison's mismatch.
        let mismatch = try XCTUnwrap(
            Comparison.compare(
                actual: real(actual), expected: real(expected), tolerance: t, output: "h", reference: .golden))
        let m = MismatchMap(actual: actual, expected: expected, mismatch: mismatch)
        XCTAssertEqual(m.rows, 3)
        XCTAssertEqual(m.columns, 2)
        XCTAssertEqual(m.firstRow, 1)
        XCTAssertEqual(m.worst, 5, "a NaN where a number belongs is the worst")
        XCTAssertEqual(m.diffs[3], 0.5)
        XCTAssertEqual(m.diffs[5], .infinity)
    }

    @Test func testCrashingCasesDoNotTakeTheReportDown() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let p = try TempProject()
        try p.writeCase("faults/trap", "kernel: fault.trap\ntitle: traps\ninputs: {x: [1.0]}\n")
        try p.writeCase("fine/a", simpleStepCase)
        XCTAssertEqual(try runRNNSpec(["regen", "cases/fine"], in: p.root).status, 0)
        let env = ["RNNSPEC_FAULT_KERNELS": "1", "CI": nil]
        let r = try runRNNSpec(["report", "--output", "r.html"], in: p.root, environment: env)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("1 passed, 1 failed\nwrote r.html\n"), r.stdout)
        let page = try String(contentsOf: p.root.appendingPathComponent("r.html"), encoding: .utf8)
        XCTAssertTrue(
            page.contains(
                "<span class=\"badge b-unresolved\">UNRESOLVED</span> <span class=\"id\">faults/trap</span> <span class=\"title\">traps</span>"
            ))
        XCTAssertTrue(page.contains("the case crashed its worker process"))
        XCTAssertTrue(page.contains("<span class=\"id\">fine/a</span>"))
        XCTAssertTrue(
            page.contains("<th scope=\"row\"><code>h</code></th>"), "the passing case's outputs, from its worker")
        XCTAssertTrue(page.hasSuffix("</html>\n"))
        // `run --html` writes the same kind of page beside the text report.
        let run = try runRNNSpec(["run", "--html", "run.html"], in: p.root, environment: env)
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(
            try String(contentsOf: p.root.appendingPathComponent("run.html"), encoding: .utf8).contains("faults/trap"))
    }
}

private func escapeForTest(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
        of: ">", with: "&gt;"
    )
    .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
}
