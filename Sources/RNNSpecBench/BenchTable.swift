import Foundation
import RNNSpec

/// Lays out rows under a header in aligned columns: text columns left-aligned, the columns in
/// `right` right-aligned, two spaces between columns, trailing spaces trimmed.
package func formatTable(_ header: [String], _ rows: [[String]], right: Set<Int> = []) -> String {
    let all = [header] + rows
    let widths = (0..<header.count).map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
        var parts: [String] = []
        for c in 0..<header.count {
            let cell = cells.indices.contains(c) ? cells[c] : ""
            let pad = String(repeating: " ", count: widths[c] - cell.count)
            parts.append(right.contains(c) ? pad + cell : cell + pad)
        }
        var text = parts.joined(separator: "  ")
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
}

/// A number with `digits` decimals.
func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

/// Milliseconds with three significant figures or so.
func millis(_ ms: Double) -> String {
    ms >= 100 ? fixed(ms, 0) : ms >= 10 ? fixed(ms, 1) : ms >= 1 ? fixed(ms, 2) : fixed(ms, 3)
}

extension BenchReport {
    /// The runner's targets: 2,000 cases in at most 0.25 s wall with `--jobs 2`, and at most 40 MB peak
    /// (`rnnspec run` and its worker processes together: their private pages plus the pages they
    /// share counted once; the sum of each one's resident peak is printed too).
    static let targetCases = 2000, targetJobs = 2, targetSeconds = 0.25, targetMB = 40.0
    static let targetOneCaseMilliseconds = 15.0

    /// The table `rnnspec bench` prints.
    package func text() -> String {
        var out =
            "rnnspec bench: \(debugBuild ? "DEBUG build (numbers are not meaningful; use -c release)" : "release build"), \(cores) cores\n"
        if !runner.isEmpty {
            out +=
                "\nRunner throughput: a generated suite of small cases (the seeds' kernels at notebook sizes), `rnnspec run` as a child process\n"
            out += formatTable(
                ["cases", "jobs", "wall s", "cases/s", "peak MB", "RSS sum MB", "result"],
                runner.map { r in
                    [
                        String(r.cases), String(r.jobs), fixed(r.seconds, 3), fixed(r.casesPerSecond, 0),
                        r.peakGroupMB.map { fixed($0, 1) } ?? "n/a", fixed(r.peakMB, 1),
                        r.exitStatus == 0 ? r.summary : "exit \(r.exitStatus): \(r.summary)",
                    ]
                }, right: [0, 1, 2, 3, 4, 5])
            out +=
                "wall s: the median of the timed runs, waited for without polling; peak MB (in one more run, polled every 2 ms): rnnspec run and its workers together, their private pages plus the pages they share (the executable's, the C library's) once; "
                + "RSS sum MB: each process's own peak resident set, summed (shared pages once per process)\n"
            out += runnerVerdict()
        }
        if let one = oneCase {
            let sorted = one.milliseconds.sorted()
            let held = one.median <= BenchReport.targetOneCaseMilliseconds
            out +=
                "\nOne case end to end: `rnnspec run \(one.path)` (an rnn.step, in its suite's directory) as a child process, spawn to exit, \(sorted.count) runs after one untimed\n"
                + "median \(fixed(one.median, 1)) ms (fastest \(fixed(sorted.first ?? .nan, 1)), slowest \(fixed(sorted.last ?? .nan, 1))"
                + (one.exitStatus == 0 ? "" : "; exit \(one.exitStatus)") + "); target ≤ "
                + "\(fixed(BenchReport.targetOneCaseMilliseconds, 0)) ms: \(held && one.exitStatus == 0 ? "holds" : "MISSED")\n"
        }
        if !peaks.isEmpty {
            out += "\nMatrix-multiply peak: N×N · N×N, 2·N³ flops, \(medianPhrase)\n"
            out += formatTable(
                ["dtype", "N", "rnnspec gemm GFLOP/s", "NumPy a @ b GFLOP/s"],
                peaks.map { p in
                    [
                        p.dtype, String(p.n), p.rnnspecGFLOPs.map { fixed($0, 1) } ?? "n/a",
                        p.numpyGFLOPs.map { fixed($0, 1) } ?? "n/a",
                    ]
                }, right: [1, 2, 3])
        }
        if !kernels.isEmpty {
            out +=
                "\nKernel throughput: PyTorch conventions, zero initial state, ms, \(medianPhrase); NumPy: tools/bench/numpy_reference.py, notebook style\n"
            out += formatTable(
                [
                    "kernel", "pass", "dtype", "size", "rnnspec ms", "GFLOP/s", "% peak", "NumPy ms", "NumPy/rnnspec",
                    "agree",
                    "ORT ms", "ORT/rnnspec", "ORT agree",
                ],
                kernels.map { k in
                    let peak = peaks.first { $0.dtype == k.dtype }?.numpyGFLOPs
                    return [
                        k.kind.uppercased(), k.pass.rawValue, k.dtype, k.shape.label, millis(k.milliseconds),
                        fixed(k.gflops, 2),
                        peak.map { fixed(100 * k.gflops / $0, 1) } ?? "n/a",
                        k.numpyMilliseconds.map(millis) ?? "n/a", k.ratio.map { fixed($0, 2) } ?? "n/a",
                        k.agree.map { $0 ? "yes" : "NO" } ?? "n/a",
                        k.ortMilliseconds.map(millis) ?? "-", k.ortRatio.map { fixed($0, 2) } ?? "-",
                        k.ortAgree.map { $0 ? "yes" : "NO" } ?? "-",
                    ]
                }, right: [4, 5, 6, 7, 8, 10, 11])
            out +=
                "GFLOP/s counts the matrix products only: forward 2·B·(I+H)·G·H per step (G = 4 LSTM, 3 GRU), backward twice that; % peak is of NumPy's measured matrix-multiply peak in the same dtype.\n"
            out +=
                "agree: rnnspec's and NumPy's results on the same inputs (‖h_T‖ and h_T[0]; loss, ‖dW_ih‖, ‖dW_hh‖, ‖db‖) match to rel 1e-8 (float64) or 2e-3 (float32).\n"
            out += "NumPy: \(numpy)\n"
            out +=
                "ORT: \(ort.isEmpty ? "not run" : ort) (ONNX Runtime's LSTM/GRU node, float32 forward only; - where it has no row)\n"
            out += kernelVerdict()
        }
        if !memory.isEmpty {
            out +=
                "\nMemory of forward+BPTT: the rise of peak resident memory over the run, against the least its caches need\n"
            out +=
                "(per step the G gate activations, h_t and c_t or the GRU's candidate term, stored once, plus the weight gradients)\n"
            out += formatTable(
                ["kernel", "dtype", "size", "peak MB", "minimum MB", "peak/minimum"],
                memory.map { m in
                    [
                        m.kind.uppercased(), m.dtype, m.shape.label,
                        m.peakBytes.map { fixed(Double($0) / 1_048_576, 1) } ?? "n/a",
                        fixed(Double(m.minimumBytes) / 1_048_576, 1), m.ratio.map { fixed($0, 2) } ?? "n/a",
                    ]
                }, right: [3, 4, 5])
            let measured = memory.compactMap(\.ratio)
            if let worst = measured.max() {
                out +=
                    "target peak within 1.5× of the minimum: " + (worst <= 1.5 ? "holds" : "MISSED")
                    + " (largest ratio \(fixed(worst, 2)))\n"
            }
        }
        for note in notes { out += "note: \(note)\n" }
        return out
    }

    func runnerVerdict() -> String {
        var out = ""
        let target = runner.filter { $0.cases == BenchReport.targetCases && $0.jobs == BenchReport.targetJobs }
        if let best = target.min(by: { $0.seconds < $1.seconds }) {
            let fast = best.seconds <= BenchReport.targetSeconds, small = best.judgedMB <= BenchReport.targetMB
            let memory =
                best.peakGroupMB.map { "\(fixed($0, 1)) MB (RSS sum \(fixed(best.peakMB, 1)) MB)" }
                ?? "\(fixed(best.peakMB, 1)) MB RSS sum (processes together not measured)"
            out +=
                "target \(BenchReport.targetCases) cases ≤ \(fixed(BenchReport.targetSeconds, 2)) s wall with --jobs \(BenchReport.targetJobs), ≤ \(fixed(BenchReport.targetMB, 0)) MB peak: "
                + (fast && small ? "holds" : "MISSED")
                + " (time \(fixed(best.seconds, 3)) s, \(fast ? "held" : "missed"); memory \(memory), \(small ? "held" : "missed"))\n"
        }
        for jobs in Set(runner.map(\.jobs)).sorted() {
            let rows = runner.filter { $0.jobs == jobs }.sorted { $0.cases < $1.cases }
            guard rows.count > 1 else { continue }
            out +=
                "--jobs \(jobs): ms per case "
                + rows.map { "\(fixed(1000 * $0.seconds / Double($0.cases), 3)) at \($0.cases)" }.joined(
                    separator: ", ")
                + " (linear when these are equal)\n"
        }
        return out
    }

    func kernelVerdict() -> String {
        var out = ""
        let ratios = kernels.compactMap { k in k.ratio.map { (k, $0) } }
        if !ratios.isEmpty {
            let slower = ratios.filter { $0.1 < 1 }
            out += "at least as fast as NumPy (ratio ≥ 1): \(ratios.count - slower.count) of \(ratios.count) rows"
            if let worst = ratios.min(by: { $0.1 < $1.1 }) {
                out += "; lowest ratio \(fixed(worst.1, 2))\(roundsText(worst.0.roundRatios))"
            }
            out += "\n"
        }
        let ort = kernels.compactMap { k in k.ortRatio.map { (k, $0) } }
        if !ort.isEmpty {
            out +=
                "at least as fast as ONNX Runtime (ORT/rnnspec ≥ 1): \(ort.filter { $0.1 >= 1 }.count) of \(ort.count) rows"
                + "; "
                + ort.map {
                    "\($0.0.kind.uppercased()) \($0.0.shape.label) \(fixed($0.1, 2))\(roundsText($0.0.ortRoundRatios))"
                }
                .joined(separator: ", ")
                + "\n"
        }
        let small = ratios.filter { $0.0.shape == .notebook }
        if !small.isEmpty {
            out +=
                "notebook size at least 10× faster than NumPy: \(small.filter { $0.1 >= 10 }.count) of \(small.count) rows\n"
        }
        return out
    }

    /// "median" for one round, else what the median is of and how the rounds alternate.
    var medianPhrase: String {
        guard rounds > 1 else { return "median" }
        return "median of \(rounds) rounds' medians"
            + (numpyRan ? " (each round: rnnspec's rows, then NumPy's and ONNX Runtime's)" : "")
    }

    /// " (rounds a / b / c)" for two rounds or more, else nothing.
    func roundsText(_ ratios: [Double]) -> String {
        ratios.count > 1 ? " (rounds " + ratios.map { fixed($0, 2) }.joined(separator: " / ") + ")" : ""
    }

    /// The report as JSON (every measured number, without the verdict lines).
    package func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
