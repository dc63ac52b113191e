import Foundation
import RNNKernels
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecBench

/// The machinery of `rnnspec bench`, in a tiny mode: no timing is asserted.
@Suite final class BenchTests {
    @Test func testGeneratedSuiteIsDistinctAndPasses() throws {
        let cases = BenchSuite.cases(count: 2 * BenchSuite.templates.count)
        XCTAssertEqual(Set(cases.map(\.text)).count, cases.count, "every generated case is different")
        XCTAssertEqual(Set(cases.map(\.id)).count, cases.count)
        // The kernels of the seeds, each template once in every run of templates.count cases.
        let kernels = Set(cases.compactMap { $0.text.split(separator: "\n").first })
        XCTAssertEqual(kernels.count, BenchSuite.templates.count)

        let temp = try TempProject()
        try BenchSuite.write(count: cases.count, to: temp.root, jobs: 2)
        let report = try temp.run()
        XCTAssertEqual(report.results.count, cases.count)
        XCTAssertEqual(report.failed, 0, report.text())
        XCTAssertEqual(report.passed, cases.count)
        // The same count gives the same suite.
        XCTAssertEqual(BenchSuite.cases(count: 5).map(\.text), BenchSuite.cases(count: 5).map(\.text))
    }

    @Test func testFLOPCount() {
        // forward per step 2·B·(I+H)·G·H; backward twice that.
        let s = BenchShape.large
        XCTAssertEqual(benchFLOPs(kind: .lstm, shape: s, pass: .forward), 128 * 2 * 32 * (128 + 256) * 4 * 256)
        XCTAssertEqual(benchFLOPs(kind: .lstm, shape: s, pass: .forwardBPTT), 3 * 128 * 2 * 32 * (128 + 256) * 4 * 256)
        XCTAssertEqual(benchFLOPs(kind: .gru, shape: .notebook, pass: .forward), 64 * 2 * 1 * (8 + 16) * 3 * 16)
        XCTAssertEqual(gemmFLOPs(2048), 2 * 2048 * 2048 * 2048)
    }

    @Test func testTinyKernelRowsRunAndAgreeAcrossPrecisions() {
        let inputs = BenchInputs(kind: .lstm, shape: BenchShape(t: 3, b: 2, i: 2, h: 3))
        for pass in BenchPass.allCases {
            let (t64, c64) = benchKernel(inputs, pass: pass, as: Double.self, repetitions: .quick)
            let (_, c32) = benchKernel(inputs, pass: pass, as: Float.self, repetitions: .quick)
            XCTAssertEqual(t64.runs, 1)
            XCTAssertFalse(c64.isEmpty)
            XCTAssertTrue(checksAgree(c64, c32, dtype: "float32"), "\(c64) vs \(c32)")
            XCTAssertFalse(checksAgree(c64, c64.mapValues { $0 * 1.01 }, dtype: "float64"))
        }
        XCTAssertGreaterThan(benchGEMM(n: 8, as: Float.self, repetitions: .quick).milliseconds, 0)
    }

    /// Short bodies are timed many times, long ones seven, within the budget; the NumPy script gets the
    /// same rule in its manifest.
    @Test func testShortBodiesAreTimedMoreOften() {
        let reps = Repetitions.standard
        XCTAssertEqual(reps.limit(first: 0.000_05), 201)
        XCTAssertEqual(reps.limit(first: 0.002), 7)
        XCTAssertEqual(Repetitions.quick.limit(first: 0.000_05), 1)
        var calls = 0
        let (short, _) = RNNSpecBench.measure(reps) { calls += 1 }
        XCTAssertEqual(short.runs, 201)
        XCTAssertGreaterThan(calls, 202, "0.3 s of warm-up runs and 201 timed runs")
        let (long, _) = RNNSpecBench.measure(reps) { usleep(2_000) }
        XCTAssertEqual(long.runs, 7)
    }

    /// The warm-up runs untimed until it has taken `warmUpSeconds` (a burst's first 100–200 ms run slower on
    /// this VM), then the timed runs follow; the NumPy script's `measure` does the same with the manifest's
    /// `warm_up_seconds` (checked here where python3 has NumPy).
    @Test func testTheWarmUpLastsItsTime() throws {
        XCTAssertEqual(Repetitions.standard.warmUpSeconds, 0.3)
        let reps = Repetitions(count: 5, budgetSeconds: 3, minimum: 3, warmUp: true, warmUpSeconds: 0.05)
        var calls = 0
        let start = now()
        let (timing, _) = RNNSpecBench.measure(reps) {
            calls += 1
            usleep(2_000)
        }
        XCTAssertEqual(timing.runs, 5)
        // At least 0.05 s of 2 ms sleeps (a sleep lasts at least its time, so at most 26 of them), then 5 timed.
        XCTAssertGreaterThanOrEqual(calls, 5 + 2, "warm-up runs")
        XCTAssertLessThanOrEqual(calls, 5 + 26, "warm-up runs past 0.05 s of 2 ms sleeps")
        XCTAssertGreaterThanOrEqual(now() - start, 0.05 + 5 * 0.002)
        // Without `warmUpSeconds`, one warm-up run.
        calls = 0
        _ = RNNSpecBench.measure(Repetitions(count: 5, budgetSeconds: 3, minimum: 3, warmUp: true)) { calls += 1 }
        XCTAssertEqual(calls, 6)

        let probe = #"""
            import sys, time
            sys.path.insert(0, sys.argv[1])
            try:
                import numpy_reference
            except ImportError:
                print("no numpy"); sys.exit(0)
            calls = [0]
            def body():
                calls[0] += 1
                time.sleep(0.002)
            assert numpy_reference.DEFAULT["repetitions"]["warm_up_seconds"] == 0.3
            reps = dict(numpy_reference.DEFAULT["repetitions"], count=5, warm_up_seconds=0.05)
            t0 = time.perf_counter()
            ms, runs, _ = numpy_reference.measure(body, reps)
            print(runs, calls[0], int(time.perf_counter() - t0 >= 0.05 + 5 * 0.002))
            """#
        let tools = repositoryRoot.appendingPathComponent("tools/bench").path
        guard let python = resolveExecutable("python3") else { return }
        let temp = try TempProject()
        let run = try runChild(python, ["-c", probe, tools], scratch: temp.root, measureMemory: false)
        // A failed assertion in the probe is a failure here, not a skip.
        XCTAssertEqual(run.status, 0, "the probe of the script's measure exited with \(run.status)")
        let out = run.output
        guard !out.contains("no numpy") else { return }
        let fields = out.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        XCTAssertEqual(fields.count, 3, out)
        if fields.count == 3 {
            XCTAssertEqual(fields[0], 5, "the script's timed runs")
            XCTAssertGreaterThanOrEqual(fields[1], 5 + 2, "the script's warm-up runs")
            XCTAssertLessThanOrEqual(fields[1], 5 + 26, "the script's warm-up runs")
            XCTAssertEqual(fields[2], 1, "the script's warm-up and runs took at least 0.06 s")
        }
    }

    @Test func testTableLayout() {
        let table = formatTable(["name", "ms"], [["lstm", "1.5"], ["gru", "10.25"]], right: [1])
        XCTAssertEqual(table, "name     ms\nlstm    1.5\ngru   10.25\n")

        var report = BenchReport(debugBuild: false, cores: 2)
        report.runner = [
            RunnerRow(
                cases: 2000, jobs: 2, seconds: 0.25, peakBytes: 30 << 20, runs: 3, exitStatus: 0,
                summary: "2000 passed, 0 failed")
        ]
        report.kernels = [
            KernelRow(
                kind: "lstm", pass: .forward, dtype: "float64", shape: .notebook,
                flops: benchFLOPs(kind: .lstm, shape: .notebook, pass: .forward), milliseconds: 0.2, runs: 7,
                checks: [:], numpyMilliseconds: nil, agree: nil)
        ]
        report.numpy = "not run: python3 not found"
        let text = report.text()
        XCTAssertTrue(text.contains(" 2000     2   0.250     8000      n/a        30.0  2000 passed, 0 failed\n"), text)
        XCTAssertTrue(
            text.contains(
                "target 2000 cases ≤ 0.25 s wall with --jobs 2, ≤ 40 MB peak: holds (time 0.250 s, held; memory 30.0 MB RSS sum (processes together not measured), held)"
            ), text)
        var slow = report
        slow.runner[0].seconds = 0.26
        XCTAssertTrue(
            slow.text().contains("≤ 40 MB peak: MISSED (time 0.260 s, missed; memory 30.0 MB RSS sum"), slow.text())
        slow.runner[0].seconds = 0.2
        slow.runner[0].peakBytes = 41 << 20
        XCTAssertTrue(
            slow.text().contains("≤ 40 MB peak: MISSED (time 0.200 s, held; memory 41.0 MB RSS sum"), slow.text())
        // Where the processes were measured together the memory is judged on that (shared pages once).
        slow.runner[0].peakGroupBytes = 39 << 20
        XCTAssertTrue(
            slow.text().contains("≤ 40 MB peak: holds (time 0.200 s, held; memory 39.0 MB (RSS sum 41.0 MB), held)"),
            slow.text())
        XCTAssertTrue(
            slow.text().contains(" 2000     2   0.200    10000     39.0        41.0  2000 passed"), slow.text())
        slow.runner[0].peakGroupBytes = 41 << 20
        XCTAssertTrue(
            slow.text().contains("MISSED (time 0.200 s, held; memory 41.0 MB (RSS sum 41.0 MB), missed)"), slow.text())
        XCTAssertFalse(text.contains("One case end to end"), text)
        var one = report
        one.oneCase = OneCaseRow(path: "cases/a.yaml", milliseconds: [14, 16, 15.5, 13], exitStatus: 0)
        XCTAssertTrue(
            one.text().contains(
                "median 14.8 ms (fastest 13.0, slowest 16.0); target ≤ 15 ms: holds\n"), one.text())
        one.oneCase!.milliseconds = [15.2, 15.1, 14]
        XCTAssertTrue(
            one.text().contains("median 15.1 ms (fastest 14.0, slowest 15.2); target ≤ 15 ms: MISSED"), one.text())
        one.oneCase!.milliseconds = [10]
        one.oneCase!.exitStatus = 1
        XCTAssertTrue(
            one.text().contains("median 10.0 ms (fastest 10.0, slowest 10.0; exit 1); target ≤ 15 ms: MISSED"),
            one.text())
        XCTAssertTrue(one.json().contains("\"oneCase\""), one.json())
        XCTAssertTrue(text.contains("LSTM    forward  float64  T=64 B=1 I=8 H=16"), text)
        XCTAssertTrue(text.contains("n/a"), text)
        XCTAssertTrue(text.contains("NumPy: not run: python3 not found"), text)
        XCTAssertTrue(report.json().contains("\"numpyRan\" : false"))
    }

    @Test func testNumPyReportParses() throws {
        let json = """
            some warning on a line before
            {"numpy": "2.4.6", "python": "3.12.3", "rows": [{"kind": "gru", "dtype": "float32", "T": 64, "B": 1, "I": 8, "H": 16, "pass": "forward+bptt", "ms": 4.5, "runs": 7, "checks": {"loss": 1.25}}], "peak": [{"dtype": "float64", "n": 2048, "ms": 250.0, "runs": 3, "gflops": 68.7}]}
            """
        let report = try NumPyReport.parse(json)
        XCTAssertEqual(report.numpy, "2.4.6")
        let row = try XCTUnwrap(report.row(kind: .gru, dtype: "float32", shape: .notebook, pass: .forwardBPTT))
        XCTAssertEqual(row.ms, 4.5)
        XCTAssertEqual(row.checks["loss"], 1.25)
        XCTAssertNil(report.row(kind: .lstm, dtype: "float32", shape: .notebook, pass: .forwardBPTT))
        XCTAssertEqual(report.peak(dtype: "float64")?.gflops, 68.7)
        XCTAssertThrowsError(try NumPyReport.parse(#"{"error": "numpy is not installed for /usr/bin/python3"}"#)) {
            error in
            XCTAssertTrue("\(error)".contains("numpy is not installed"))
        }
        XCTAssertThrowsError(try NumPyReport.parse("Traceback (most recent call last):"))
    }

    /// ONNX Runtime's rows come in the NumPy script's report, or the reason they do not; the table
    /// shows ORT's time and ORT/rnnspec next to NumPy's.
    @Test func testORTRowsParseAndShowInTheTable() throws {
        let json = """
            {"numpy": "2.4.6", "python": "3.11.7", "rows": [], "peak": [], "ort": {"version": "1.32.0", "threads": 2, "rows": [{"kind": "lstm", "dtype": "float32", "T": 64, "B": 1, "I": 8, "H": 16, "pass": "forward", "ms": 0.08, "runs": 7, "checks": {"h_last_norm": 0.644242308767499, "h_last_0": 0.11348800361156464}}]}}
            """
        let report = try NumPyReport.parse(json)
        let row = try XCTUnwrap(report.ortRow(kind: .lstm, dtype: "float32", shape: .notebook, pass: .forward))
        XCTAssertEqual(row.ms, 0.08)
        XCTAssertNil(report.ortRow(kind: .gru, dtype: "float32", shape: .notebook, pass: .forward))
        let missing = try NumPyReport.parse(
            #"{"numpy": "2.4.6", "python": "3.11.7", "rows": [], "peak": [], "ort": {"missing": "not run: No module named 'onnxruntime'"}}"#
        )
        XCTAssertEqual(missing.ort?.missing, "not run: No module named 'onnxruntime'")
        XCTAssertNil(try NumPyReport.parse(#"{"numpy": "2.4.6", "python": "3.11.7", "rows": [], "peak": []}"#).ort)

        var bench = BenchReport(debugBuild: false, cores: 2)
        var k = KernelRow(
            kind: "lstm", pass: .forward, dtype: "float32", shape: .notebook,
            flops: benchFLOPs(kind: .lstm, shape: .notebook, pass: .forward), milliseconds: 0.05, runs: 7, checks: [:])
        k.ortMilliseconds = 0.08
        k.ortAgree = true
        bench.kernels = [k]
        bench.ort = "ONNX Runtime 1.32.0, CPUExecutionProvider, 2 intra-op threads"
        bench.memory = [
            MemoryRow(kind: "gru", dtype: "float32", shape: .large, peakBytes: 30 << 20, minimumBytes: 20 << 20)
        ]
        let text = bench.text()
        XCTAssertTrue(text.contains("ORT ms  ORT/rnnspec  ORT agree"), text)
        XCTAssertTrue(text.contains("0.080         1.60  yes"), text)
        XCTAssertTrue(
            text.contains(
                "at least as fast as ONNX Runtime (ORT/rnnspec ≥ 1): 1 of 1 rows; LSTM T=64 B=1 I=8 H=16 1.60"), text)
        XCTAssertTrue(text.contains("ORT: ONNX Runtime 1.32.0"), text)
        XCTAssertTrue(text.contains("GRU     float32  T=128 B=32 I=128 H=256     30.0        20.0          1.50"), text)
        XCTAssertTrue(text.contains("target peak within 1.5× of the minimum: holds (largest ratio 1.50)"), text)
    }

    /// Rounds: each time is the median of the rounds' medians on both sides, the ratios are printed round
    /// by round, and a row agrees only where every round's reference agrees.
    @Test func testRoundsPairTheReferencesWithRnnspecRoundByRound() throws {
        func reference(numpy: Double, ort: Double, norm: Double) throws -> NumPyReport {
            try NumPyReport.parse(
                """
                {"numpy": "2.4.6", "python": "3.11.7", "rows": [{"kind": "lstm", "dtype": "float32", "T": 64, "B": 1, "I": 8, "H": 16, "pass": "forward", "ms": \(numpy), "runs": 7, "checks": {"h_last_norm": \(norm), "h_last_0": 0.5}}], "peak": [{"dtype": "float32", "n": 512, "ms": 1.0, "runs": 3, "gflops": \(numpy * 100)}], "ort": {"version": "1.32.0", "threads": 2, "rows": [{"kind": "lstm", "dtype": "float32", "T": 64, "B": 1, "I": 8, "H": 16, "pass": "forward", "ms": \(ort), "runs": 7, "checks": {"h_last_norm": 2.0, "h_last_0": 0.5}}]}}
                """)
        }
        var row = KernelRow(
            kind: "lstm", pass: .forward, dtype: "float32", shape: .notebook,
            flops: benchFLOPs(kind: .lstm, shape: .notebook, pass: .forward), milliseconds: 0, runs: 21,
            checks: ["h_last_norm": 2.0, "h_last_0": 0.5])
        row.roundMilliseconds = [0.02, 0.05, 0.03]
        let references = [
            try reference(numpy: 0.8, ort: 0.03, norm: 2.0), try reference(numpy: 0.6, ort: 0.04, norm: 2.0),
            try reference(numpy: 0.7, ort: 0.02, norm: 2.0),
        ]
        let combined = try XCTUnwrap(combineRounds([row], references).first)
        XCTAssertEqual(combined.milliseconds, 0.03)
        XCTAssertEqual(combined.numpyMilliseconds, 0.7)
        XCTAssertEqual(combined.ortMilliseconds, 0.03)
        XCTAssertEqual(combined.numpyRoundMilliseconds, [0.8, 0.6, 0.7])
        XCTAssertEqual(combined.roundRatios.map { ($0 * 1000).rounded() / 1000 }, [40, 12, 23.333])
        XCTAssertEqual(combined.ortRoundRatios.map { ($0 * 1000).rounded() / 1000 }, [1.5, 0.8, 0.667])
        XCTAssertEqual(combined.agree, true)
        XCTAssertEqual(combined.ortAgree, true)
        // One round's NumPy result off: the row does not agree.
        let off = [references[0], try reference(numpy: 0.6, ort: 0.04, norm: 2.5), references[2]]
        XCTAssertEqual(combineRounds([row], off).first?.agree, false)
        // Without a reference the row keeps rnnspec's median alone.
        let alone = try XCTUnwrap(combineRounds([row], []).first)
        XCTAssertEqual(alone.milliseconds, 0.03)
        XCTAssertNil(alone.numpyMilliseconds)
        XCTAssertEqual(alone.roundRatios, [])

        var bench = BenchReport(debugBuild: false, cores: 2)
        bench.rounds = 3
        bench.numpyRan = true
        bench.kernels = [combined]
        bench.ort = "ONNX Runtime 1.32.0, CPUExecutionProvider, 2 intra-op threads"
        let text = bench.text()
        XCTAssertTrue(text.contains("median of 3 rounds' medians (each round: rnnspec's rows, then NumPy's"), text)
        XCTAssertTrue(text.contains("lowest ratio 23.33 (rounds 40.00 / 12.00 / 23.33)"), text)
        XCTAssertTrue(text.contains("LSTM T=64 B=1 I=8 H=16 1.00 (rounds 1.50 / 0.80 / 0.67)"), text)
        // Without the reference the rounds are rnnspec's alone.
        var alone3 = bench
        alone3.numpyRan = false
        XCTAssertTrue(
            alone3.text().contains("zero initial state, ms, median of 3 rounds' medians; NumPy:"), alone3.text())
        // The peaks: medians of the rounds on both sides.
        let peaks = combinePeaks(
            [PeakRow(dtype: "float32", n: 512, rnnspecGFLOPs: nil, numpyGFLOPs: nil, rnnspecRounds: [150, 90, 120])],
            references)
        XCTAssertEqual(peaks.first?.rnnspecGFLOPs, 120)
        XCTAssertEqual(peaks.first?.numpyRounds, [80, 60, 70])
        XCTAssertEqual(peaks.first?.numpyGFLOPs, 70)
        XCTAssertNil(
            combinePeaks([PeakRow(dtype: "float64", n: 512, rnnspecGFLOPs: nil, numpyGFLOPs: nil)], references).first?
                .numpyGFLOPs)
        bench.rounds = 1
        bench.kernels[0].roundMilliseconds = [0.03]
        bench.kernels[0].numpyRoundMilliseconds = [0.7]
        bench.kernels[0].ortRoundMilliseconds = [0.03]
        XCTAssertFalse(bench.text().contains("rounds"), bench.text())
    }

    /// The reference runs unpolled: reading a child's page tables every 2 ms from the other core slowed
    /// NumPy and ONNX Runtime by up to 60% on two cores, so the ratios favoured rnnspec. A stand-in
    /// "python" (a shell script that answers like the NumPy script) shows the run carries no memory poll.
    @Test func testTheReferenceIsNotPolledForMemory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnspec-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let python = dir.appendingPathComponent("fake-python")
        try """
        #!/bin/sh
        sleep 0.05
        echo '{"numpy": "2.4.6", "python": "3.11.7", "rows": [], "peak": []}'
        """.write(to: python, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(python.path, 0o755), 0)
        let script = dir.appendingPathComponent("numpy_reference.py")
        try "".write(to: script, atomically: true, encoding: .utf8)
        let manifest = try writeNumPyReferenceInputs(
            inputs: [], dtypes: ["float32"], peakN: 8, repetitions: .quick, scratch: dir)
        let (report, run) = try runNumPyReference(python: python.path, script: script, manifest: manifest, scratch: dir)
        XCTAssertEqual(report.numpy, "2.4.6")
        XCTAssertGreaterThanOrEqual(run.seconds, 0.05)
        XCTAssertNil(run.peakGroupBytes, "the reference's run was polled for memory")
        // The same child polled does get a group peak where /proc has smaps_rollup (the test's control).
        if FileManager.default.fileExists(atPath: "/proc/self/smaps_rollup") {
            let polled = try runChild(python.path, [], scratch: dir)
            XCTAssertNotNil(polled.peakGroupBytes)
        }
    }

    /// The minimum a forward+BPTT keeps: per step G gates, h_t and c_t (or the GRU's candidate
    /// term), plus the weight gradients; the peak is measured (a small size: this test runs in debug).
    @Test func testMemoryMinimumAndMeasurement() {
        let s = BenchShape(t: 4, b: 2, i: 3, h: 5)
        XCTAssertEqual(
            minimumCacheBytes(kind: .lstm, shape: s, scalarBytes: 8), 8 * (4 * 2 * 6 * 5 + 4 * 5 * (3 + 5 + 2)))
        XCTAssertEqual(
            minimumCacheBytes(kind: .gru, shape: s, scalarBytes: 4), 4 * (4 * 2 * 5 * 5 + 3 * 5 * (3 + 5 + 2)))
        XCTAssertEqual(
            minimumCacheBytes(kind: .lstm, shape: .large, scalarBytes: 4), 4 * (128 * 32 * 6 * 256 + 4 * 256 * 386))
        let small = BenchShape(t: 16, b: 2, i: 4, h: 8)
        let row = benchMemory(BenchInputs(kind: .lstm, shape: small), as: Double.self)
        XCTAssertEqual(row.minimumBytes, minimumCacheBytes(kind: .lstm, shape: small, scalarBytes: 8))
        #if os(Linux)
        XCTAssertNotNil(row.peakBytes, "the peak is measured on Linux")
        #endif
    }

    /// The direct golden reader gives what the YAML path gives, for every golden in the
    /// repository and a generated suite, and declines anything off the written layout.
    @Test func testCanonicalGoldenReaderMatchesYAML() throws {
        let temp = try TempProject()
        try BenchSuite.write(count: 2 * BenchSuite.templates.count, to: temp.root, jobs: 2)
        var direct = 0, lists = 0
        for root in [repositoryRoot.appendingPathComponent("golden"), temp.root.appendingPathComponent("golden")] {
            for url in listYAML(under: root) {
                let text = try String(contentsOf: url, encoding: .utf8)
                let source = SourceText(path: url.path, text: text)
                let yaml = try Golden.parseYAML(source)
                guard let fast = Golden.parseCanonical(text) else {
                    // Only string outputs and lists inside lists are left to YAML.
                    XCTAssertTrue(text.contains("type: string") || text.contains("- type: list"), url.path)
                    continue
                }
                if text.contains("type: list") { lists += 1 }
                direct += 1
                XCTAssertEqual(fast.caseID, yaml.caseID)
                XCTAssertEqual(fast.kernel, yaml.kernel)
                XCTAssertEqual(fast.digest, yaml.digest)
                XCTAssertEqual(fast.serialized(), yaml.serialized(), url.path)
                XCTAssertEqual(fast.serialized(), text, url.path)
            }
        }
        XCTAssertGreaterThan(direct, 100)
        // List outputs (a clip's clipped gradients) are read directly too.
        XCTAssertGreaterThanOrEqual(lists, 10)

        // A golden the direct reader takes (clip's has a list output, which goes to YAML), and edits
        // off the written layout, each of which it must decline.
        let texts = try listYAML(under: temp.root.appendingPathComponent("golden/rnn_sequence")).map {
            try String(contentsOf: $0, encoding: .utf8)
        }
        let text = try XCTUnwrap(
            texts.first { Golden.parseCanonical($0) != nil }, "a generated rnn.sequence golden the direct reader takes")
        func caseField(_ with: String) -> String {
            text.replacingOccurrences(
                of: #"\ncase: "[^"\n]*"\n"#, with: "\ncase: " + with + "\n", options: .regularExpression)
        }
        // The first two-axis shape line, rewritten by `spell` from its extents.
        func shapeLine(_ spell: (Int, Int) -> String) -> String {
            guard let range = text.range(of: #"shape: \[[0-9]+, [0-9]+\]"#, options: .regularExpression) else {
                return text
            }
            let numbers = text[range].dropFirst(8).dropLast().split(separator: ",").map {
                Int($0.trimmingCharacters(in: .whitespaces))!
            }
            return text.replacingCharacters(in: range, with: "shape: " + spell(numbers[0], numbers[1]))
        }
        func digestLine(_ template: String) -> String {
            text.replacingOccurrences(
                of: #"(\n    [A-Za-z_]+): ([0-9a-f]+)\n"#, with: template, options: .regularExpression)
        }
        for edit in [
            text.replacingOccurrences(of: "[0.", with: "[0. "), text + "# a comment\n",
            text.replacingOccurrences(of: "\n", with: "\r\n"),
            text.replacingOccurrences(of: "format: 2", with: "format: 3"),
            text.replacingOccurrences(of: "format: 2", with: "format: 1"),
            text.replacingOccurrences(of: "  h:", with: "  \"h\":"), String(text.dropLast()),
            // The quoted header fields and the digest lines, read on the bytes.
            caseField("\"a\u{7}b\""), caseField("\"ab"), caseField("\"a\u{2028}b\""), caseField("\"a\u{85}b\""),
            caseField("\"a\"b\""), caseField("\"a\u{7F}b\""), caseField("ab"),
            digestLine("$1:$2\n"), digestLine("$1: $2G\n"), digestLine("$1: \n"), digestLine("\n    : $2\n"),
            digestLine("$1: $2 \n"), digestLine("\n   $1: $2\n"),
            // The shape lines, read on the bytes: only `[a, b]` as written, digits without a leading zero.
            shapeLine { "[\($0),\($1)]" }, shapeLine { "[\($0),  \($1)]" }, shapeLine { "[0\($0), \($1)]" },
            shapeLine { "[+\($0), \($1)]" }, shapeLine { "[\($0), \($1), ]" }, shapeLine { "[ \($0), \($1)]" },
            shapeLine { "[\($0), \($1)" }, shapeLine { "[\($0) , \($1)]" },
            shapeLine { a, _ in "[\(a), 99999999999999999999]" },
            shapeLine { "[\($0), -\($1)]" }, shapeLine { "[\($0)\($1)]" },
            // A combining mark after a row's dashes: its bytes and its characters no longer line up.
            text.replacingOccurrences(of: "      - [", with: "      - \u{301}["),
        ] {
            XCTAssertNotEqual(edit, text)
            XCTAssertNil(Golden.parseCanonical(edit), edit)
        }
        // A CR, a backslash or one of YAML's other line breaks anywhere (the screen reads eight bytes at
        // a time: every offset within a word is tried) is declined.
        let scalars = Array(text.unicodeScalars)
        XCTAssertTrue(scalars.allSatisfy(\.isASCII))
        for k in stride(from: 0, through: scalars.count, by: 3) {
            for odd in ["\r", "\\", "\u{85}", "\u{9F}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}"] {
                var edited = String.UnicodeScalarView(scalars[..<k])
                edited.append(contentsOf: odd.unicodeScalars)
                edited.append(contentsOf: scalars[k...])
                XCTAssertNil(Golden.parseCanonical(String(edited)), "\(odd.debugDescription) at \(k)")
            }
        }
        // A name outside ASCII in the case field is read, as YAML reads it.
        let accented = caseField("\"r\u{E9}sum\u{E9}/\u{1F600}\"")
        XCTAssertEqual(
            Golden.parseCanonical(accented)?.caseID, try Golden.parseYAML(SourceText(path: "g", text: accented)).caseID)
        XCTAssertEqual(Golden.parseCanonical(accented)?.caseID, "r\u{E9}sum\u{E9}/\u{1F600}")
        // Declined files still read (or fail) exactly as before, through YAML.
        let commented = text + "# a comment\n"
        XCTAssertEqual(try Golden.parse(SourceText(path: "g", text: commented)).serialized(), text)
    }

    /// List outputs of every item layout read directly as YAML reads them: real items of each rank and
    /// dtype, integer and boolean items, empty items, an empty list, a list last; a list inside a list
    /// and a string item are left to YAML.
    @Test func testListGoldensReadDirectlyAsYAMLReadsThem() throws {
        let items: [Value] = [
            .real(RealTensor(Tensor(shape: [2, 3], scalars: [1, -2.5, 3e-300, 0.1, 5, 6]), dtype: .float32)),
            .real(RealTensor(Tensor(shape: [2, 2, 2], scalars: (0..<8).map { Double($0) / 7 }))),
            .real(RealTensor(Tensor(shape: [], scalars: [0.25]))),
            .real(RealTensor(Tensor(shape: [0, 3], scalars: []))),
            .integer(Tensor(shape: [2], scalars: [-3, 7])),
            .boolean(Tensor(shape: [1, 2], scalars: [true, false])),
        ]
        let parts = CaseDigest.Parts(params: [:], inputs: ["x": "ab"])
        let goldens = [
            Golden(
                caseID: "l/a", kernel: "k", digest: "d", parts: parts,
                outputs: [("all", .list(items)), ("h", .real(0.5))]),
            Golden(
                caseID: "l/b", kernel: "k", digest: "d", parts: parts,
                outputs: [("h", .real(0.5)), ("last", .list(items))]),
            Golden(
                caseID: "l/c", kernel: "k", digest: "d", parts: parts,
                outputs: [("none", .list([])), ("h", .real(0.5))]),
        ]
        for golden in goldens {
            let text = golden.serialized()
            let fast = try XCTUnwrap(Golden.parseCanonical(text), text)
            let yaml = try Golden.parseYAML(SourceText(path: "g", text: text))
            XCTAssertEqual(fast.serialized(), text)
            XCTAssertEqual(yaml.serialized(), text)
            XCTAssertEqual(fast.outputs.map(\.name), yaml.outputs.map(\.name))
            for ((_, a), (_, b)) in zip(fast.outputs, yaml.outputs) { XCTAssertTrue(sameBits(a, b), text) }
        }
        for declined in [
            Golden(
                caseID: "l/d", kernel: "k", digest: "d", parts: parts,
                outputs: [("nested", .list([.list(items)])), ("h", .real(0.5))]),
            Golden(
                caseID: "l/e", kernel: "k", digest: "d", parts: parts,
                outputs: [("words", .list([.string(Tensor(shape: [1], scalars: ["a"]))])), ("h", .real(0.5))]),
        ] {
            XCTAssertNil(Golden.parseCanonical(declined.serialized()))
            XCTAssertNoThrow(try Golden.parseYAML(SourceText(path: "g", text: declined.serialized())))
        }
        // Off the layout: an item indented differently, a missing `items:`.
        let text = goldens[0].serialized()
        for edit in [
            text.replacingOccurrences(of: "    - type: integer", with: "     - type: integer"),
            text.replacingOccurrences(of: "    items:\n", with: ""),
            text.replacingOccurrences(of: "      dtype: float32", with: "     dtype: float32"),
        ] {
            XCTAssertNotEqual(edit, text)
            XCTAssertNil(Golden.parseCanonical(edit), edit)
        }
    }
}
