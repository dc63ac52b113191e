import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// The mismatch report end to end: a golden changed by hand at known elements, the run's result
/// naming the golden's line, the first step that differs and the gate block, as fields in JSON.
@Suite final class MismatchReportTests {
    /// The golden text with the element (row, column) of a matrix output replaced by `value`.
    func perturbed(_ golden: String, output: String, row: Int, column: Int, to value: String) throws -> String {
        var lines = golden.components(separatedBy: "\n")
        let header = try XCTUnwrap(lines.firstIndex(of: "  \(output):"), "no output \(output)")
        let valueLine = try XCTUnwrap(lines[header...].firstIndex(of: "    value:"))
        let k = valueLine + 1 + row
        let prefix = "      - ["
        XCTAssertTrue(lines[k].hasPrefix(prefix), lines[k])
        var items = lines[k].dropFirst(prefix.count).dropLast().components(separatedBy: ", ")
        items[column] = value
        lines[k] = prefix + items.joined(separator: ", ") + "]"
        return lines.joined(separator: "\n")
    }

    /// A case that runs the kernel's `rnnspec new` skeleton, with its golden written.
    func project(kernel: String, id: String) throws -> TempProject {
        let p = try TempProject()
        try p.writeCase(id, try XCTUnwrap(KernelRegistry.standard.kernel(named: kernel)).spec.skeleton())
        XCTAssertEqual(try p.run(record: .all).results.first?.recording?.action, .created)
        return p
    }

    @Test func testTimeAxisGoldenLineAndJSONFields() throws {
        let p = try project(kernel: "rnn.sequence", id: "seq")
        let golden = try XCTUnwrap(p.golden("seq"))
        var changed = try perturbed(golden, output: "h", row: 2, column: 0, to: "9.0")
        changed = try perturbed(changed, output: "h", row: 1, column: 1, to: "-9.0")
        try changed.write(to: p.goldenURL("seq"), atomically: true, encoding: .utf8)
        let report = try p.run()
        let r = try XCTUnwrap(report.results.first)
        XCTAssertEqual(r.status, .fail)
        let m = try XCTUnwrap(r.mismatches.first { $0.output == "h" })
        let steps = m.shape[0]
        XCTAssertEqual(m.time, TimeDivergence(axis: 0, firstStep: 1, steps: steps, differingSteps: 2))
        let hLine = try XCTUnwrap(golden.components(separatedBy: "\n").firstIndex(of: "  h:")) + 1
        XCTAssertEqual(m.location, SourceLocation(file: "golden/seq.yaml", line: hLine, column: 3))
        XCTAssertEqual(m.elements.map(\.index), [[1, 1], [2, 0]], "row-major order")
        let text = r.detailText()
        XCTAssertTrue(
            text.contains(
                "  golden/seq.yaml:\(hLine):3: shape \(m.shape.shapeText) float64: 2 of \(m.total) elements differ from the golden"
            ), text)
        XCTAssertTrue(
            text.contains("  first differs at t = 1 of \(steps) (axis 0); steps 0–0 match; 2 steps differ\n"), text)

        // JSON: the same as fields, and the case's tags.
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let entry = try XCTUnwrap((doc["cases"] as? [[String: Any]])?.first)
        XCTAssertEqual(entry["tags"] as? [String], ["rnn"])
        let mismatch = try XCTUnwrap(
            (entry["mismatches"] as? [[String: Any]])?.first { $0["output"] as? String == "h" })
        XCTAssertEqual(mismatch["failing"] as? Int, 2)
        XCTAssertEqual(mismatch["shape"] as? [Int], m.shape)
        XCTAssertEqual(mismatch["dtype"] as? String, "float64")
        let time = try XCTUnwrap(mismatch["time"] as? [String: Any])
        XCTAssertEqual(time["first_step"] as? Int, 1)
        XCTAssertEqual(time["steps"] as? Int, steps)
        let location = try XCTUnwrap(mismatch["location"] as? [String: Any])
        XCTAssertEqual(location["file"] as? String, "golden/seq.yaml")
        XCTAssertEqual(location["line"] as? Int, hLine)
        let worst = try XCTUnwrap(mismatch["worst_abs"] as? [String: Any])
        XCTAssertEqual(worst["index"] as? [Int], m.worstAbs?.index)
        XCTAssertEqual(worst["expected"] as? Double, m.worstAbs?.expectedValue)
        XCTAssertNotNil(worst["allowed"] as? Double)
        XCTAssertNotNil(mismatch["worst_rel"] as? [String: Any])
        let elements = try XCTUnwrap(mismatch["elements"] as? [[String: Any]])
        XCTAssertEqual(elements.map { $0["index"] as? [Int] ?? [] }, [[1, 1], [2, 0]])
        XCTAssertEqual(elements.map { $0["step"] as? Int ?? -1 }, [1, 2])
        XCTAssertEqual(elements[1]["expected"] as? Double, 9.0)
    }

    @Test func testGateBlocksOfAStackedWeightGradient() throws {
        // lstm.bptt's dW is concat_fiog's [4*H, I+H], rows f, i, o, g; the skeleton has H = 2.
        let p = try project(kernel: "lstm.bptt", id: "bptt")
        let golden = try XCTUnwrap(p.golden("bptt"))
        try perturbed(golden, output: "dW", row: 3, column: 0, to: "7.0").write(
            to: p.goldenURL("bptt"), atomically: true, encoding: .utf8)
        let r = try XCTUnwrap(try p.run().results.first)
        let m = try XCTUnwrap(r.mismatches.first { $0.output == "dW" })
        XCTAssertEqual(m.shape.first, 8)
        XCTAssertEqual(
            m.gates, [GateDivergence(gate: "i (input)", block: 1, differingUnits: 1, units: 2, firstUnit: 1)])
        XCTAssertEqual(m.worstAbs?.gate, "i (input)")
        XCTAssertEqual(m.worstAbs?.unit, 1)
        XCTAssertTrue(r.detailText().contains("worst at [3, 0] (gate i (input), unit 1): actual "), r.detailText())
        XCTAssertTrue(
            r.detailText().contains("gate blocks that differ: i (input) (1 of 2 units, first unit 1)"), r.detailText())
    }

    @Test func testAGradcheckMismatchNamesTheGatesToo() throws {
        // Clipped gradients are not dloss/dW: every gate block of concat_fiog's dW (f, i, o, g) differs.
        let p = try TempProject()
        let text = try XCTUnwrap(KernelRegistry.standard.kernel(named: "lstm.bptt")).spec.skeleton()
            .replacingOccurrences(of: "  # clip: 1.0", with: "  clip: 0.01")
        try p.writeCase("g", text + "gradcheck: {wrt: [W], eps: 1e-6, abs: 1e-7, rel: 1e-5}\n")
        let r = try p.result("g")
        let m = try XCTUnwrap(r.mismatches.first { $0.reference == .gradcheck })
        XCTAssertEqual(m.output, "dW")
        XCTAssertEqual(
            m.gates.map(\.gate), ["f (forget)", "i (input)", "o (output)", "g (cell candidate)"], r.detailText())
    }

    @Test func testFrameworkGateOrdersAreDeclaredWithTheKernels() throws {
        func gates(_ kernel: String, _ output: String) throws -> [String] {
            try XCTUnwrap(
                KernelRegistry.standard.kernel(named: kernel)?.spec.output(output)?.structure.gates?.names,
                "\(kernel) \(output)")
        }
        // PyTorch: LSTM i, f, g, o; GRU r, z, n (torch.nn.LSTM / torch.nn.GRU documentation).
        XCTAssertEqual(
            try gates("torch.LSTM", "dweight_ih_l0"), ["i (input)", "f (forget)", "g (cell candidate)", "o (output)"])
        XCTAssertEqual(try gates("torch.GRU", "dweight_hh_l1_reverse"), ["r (reset)", "z (update)", "n (candidate)"])
        // ONNX: LSTM i, o, f, c; GRU z, r, h (the operator specification), along axis 1 of [D, G*H, ·].
        XCTAssertEqual(try gates("onnx.LSTM", "dW"), ["i (input)", "o (output)", "f (forget)", "c (cell candidate)"])
        XCTAssertEqual(try gates("onnx.GRU", "dR"), ["z (update)", "r (reset)", "h (candidate)"])
        XCTAssertEqual(try gates("onnx.GRU", "dB").count, 6, "W biases then R biases")
        // Keras: LSTM i, f, c, o; GRU z, r, h, along the last axis of kernel [features, G*units].
        XCTAssertEqual(
            try gates("keras.LSTM", "dkernel"), ["i (input)", "f (forget)", "c (cell candidate)", "o (output)"])
        XCTAssertEqual(try gates("keras.GRU", "dbias"), ["z (update)", "r (reset)", "h (candidate)"])
        // A torch output's time axis moves with batch_first; an unbatched one has it first.
        let output = try XCTUnwrap(KernelRegistry.standard.kernel(named: "torch.LSTM")?.spec.output("output"))
        XCTAssertEqual(output.layout(params: ["batch_first": .boolean(true)], shape: [2, 5, 3]).timeAxis, 1)
        XCTAssertEqual(output.layout(params: ["batch_first": .boolean(false)], shape: [5, 2, 3]).timeAxis, 0)
        XCTAssertEqual(output.layout(params: ["batch_first": .boolean(true)], shape: [5, 3]).timeAxis, 0)
        // The input gradients have the inputs' time axes.
        XCTAssertEqual(
            KernelRegistry.standard.kernel(named: "torch.GRU")?.spec.output("dinput")?.layout(
                params: ["batch_first": .boolean(true)], shape: [2, 5, 3]
            ).timeAxis, 1)
        XCTAssertEqual(
            KernelRegistry.standard.kernel(named: "onnx.RNN")?.spec.output("dX")?.layout(
                params: ["layout": .integer(0)], shape: [5, 2, 3]
            ).timeAxis, 0)
        XCTAssertEqual(
            KernelRegistry.standard.kernel(named: "keras.LSTM")?.spec.output("dinputs")?.layout(
                params: [:], shape: [2, 5, 3]
            ).timeAxis, 1)
        let y = try XCTUnwrap(KernelRegistry.standard.kernel(named: "onnx.GRU")?.spec.output("Y"))
        XCTAssertEqual(y.layout(params: ["layout": .integer(1)], shape: [2, 5, 1, 3]).timeAxis, 1)
        // `rnnspec kernels NAME` shows the declaration.
        let described = try XCTUnwrap(KernelRegistry.standard.kernel(named: "torch.LSTM")).spec.describe()
        XCTAssertTrue(
            described.contains("    time axis 1 when batch_first is true and rank 3, else axis 0\n"), described)
        XCTAssertTrue(
            described.contains("    gate blocks along axis 0: i (input), f (forget), g (cell candidate), o (output)\n"),
            described)
    }

    @Test func testMaxMismatchesReachesTheReport() throws {
        let p = try project(kernel: "rnn.sequence", id: "seq")
        var golden = try XCTUnwrap(p.golden("seq"))
        for row in 0..<3 { golden = try perturbed(golden, output: "a", row: row, column: 0, to: "5.0") }
        try golden.write(to: p.goldenURL("seq"), atomically: true, encoding: .utf8)
        let r = try XCTUnwrap(try p.run { $0.comparison = ComparisonOptions(maxShown: 2) }.results.first)
        let m = try XCTUnwrap(r.mismatches.first { $0.output == "a" })
        XCTAssertEqual(m.failing, 3)
        XCTAssertEqual(m.elements.count, 2)
        XCTAssertTrue(r.detailText().contains("  first 2 of 3 differing elements:\n"), r.detailText())
    }
}
