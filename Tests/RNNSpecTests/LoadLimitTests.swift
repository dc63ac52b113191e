import Foundation
import TestAssertions
import Testing
import Yams

@testable import RNNSpec

/// Limits checked before the work they bound: file bytes before reading, scalars before Yams
/// builds nodes, element counts before allocating, for case files and goldens alike.
@Suite final class LoadLimitTests {
    /// Loads `text` as `cases/c.yaml` with the given limits; the error text, or nil if it loads.
    func loadError(_ text: String, limits: LoadLimits) -> String? {
        do {
            _ = try CaseLoader(limits: limits).load(data: Data(text.utf8), id: "c", displayPath: "cases/c.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    // MARK: File bytes

    @Test func testFileBytesOverTheLimitAreRefusedWithTheNumbers() throws {
        let limits = LoadLimits(maxFileBytes: 20)
        XCTAssertNoThrow(try limits.checkFileBytes(20, file: "golden/g.yaml"))
        XCTAssertThrowsError(try limits.checkFileBytes(21, file: "golden/g.yaml")) { error in
            XCTAssertEqual(
                "\(error)",
                "golden/g.yaml: error: the file is 21 bytes, over the limit of 20 bytes (raise it with --max-file-bytes)"
            )
        }
        XCTAssertEqual(
            loadError(simpleStepCase, limits: limits),
            "cases/c.yaml: error: the file is \(simpleStepCase.utf8.count) bytes, over the limit of 20 bytes (raise it with --max-file-bytes)"
        )
        XCTAssertThrowsError(try Golden.parse(data: Data(count: 21), path: "golden/g.yaml", limits: limits)) { error in
            XCTAssertEqual(
                "\(error)",
                "golden/g.yaml: error: the file is 21 bytes, over the limit of 20 bytes (raise it with --max-file-bytes)"
            )
        }
    }

    /// A 64 GiB (sparse) case file is refused from its size, before a byte is read: quickly, and
    /// without the memory reading it would take.
    @Test func testAHugeFileIsRefusedBeforeItIsRead() throws {
        let p = try TempProject()
        let url = try p.writeCase("huge", "kernel: rnn.step\n")
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: 64 << 30)
        try handle.close()
        let start = Date()
        let r = try p.result("huge")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual(
            "\(r.error!)",
            "cases/huge.yaml: error: the file is \(64 << 30) bytes, over the limit of \(LoadLimits.defaultMaxFileBytes) bytes (raise it with --max-file-bytes)"
        )
    }

    /// `readFile` reads regular files only: a FIFO would block, a device never ends.
    @Test func testAFIFOIsRefusedNotWaitedFor() throws {
        let p = try TempProject()
        let path = p.root.appendingPathComponent("cases/fifo.yaml").path
        XCTAssertEqual(mkfifo(path, 0o644), 0)
        XCTAssertThrowsError(
            try CaseLoader().load(url: URL(fileURLWithPath: path), id: "fifo", displayPath: "cases/fifo.yaml")
        ) { error in
            XCTAssertEqual(
                "\(error)",
                "cases/fifo.yaml: error: cannot read the file: it is not a regular file (a device, FIFO or socket)")
        }
        XCTAssertThrowsError(
            try LoadLimits(maxFileBytes: 10).readFile(URL(fileURLWithPath: "/dev/zero"), display: "z.yaml")
        ) { error in
            XCTAssertEqual(
                "\(error)", "z.yaml: error: cannot read the file: it is not a regular file (a device, FIFO or socket)")
        }
    }

    // MARK: Scalars counted before nodes are built

    /// 200,000 numbers with `--max-elements 1000`: the token pre-scan stops at scalar 5,097
    /// (1,000 + the allowance of 4,096), before Yams builds a node; without it the error would
    /// come from decoding (`input 'x' needs 1 elements, ...` at the 1,001st number).
    @Test func testScalarsOverTheLimitAreRefusedBeforeComposing() throws {
        let numbers = (0..<200_000).map { _ in "0.5" }
        // 8 numbers a line: scalar 5,097 is the first on line 3 + 5,095 / 8 = 639 of the list
        // ("kernel" and "rnn.step", "inputs", "x" are scalars 1 to 4: the list's 5,093rd number).
        var text = "kernel: rnn.step\ninputs:\n  x: [\n"
        for row in stride(from: 0, to: numbers.count, by: 8) {
            text += "    " + numbers[row..<row + 8].joined(separator: ", ") + ",\n"
        }
        text += "    0.5]\n"
        let start = Date()
        let error = loadError(text, limits: LoadLimits(maxElements: 1000))
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        // Scalar 5,097 is number 5,093 of the list: row 636 (0-based), item 4 (0-based), at
        // column 5 + 4 * 5 = 25 on line 4 + 636 = 640.
        XCTAssertEqual(
            error,
            """
            cases/c.yaml:640:25: error: the file holds more than 5096 scalars (numbers, words and keys): the limit is 1000 elements per case plus 4096 for keys and words (raise it with --max-elements)
                0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
                                    ^
            """)
    }

    /// Empty lists and empty values are nodes too: 10,000 `[]` hold no scalar but are counted.
    @Test func testEmptyNodesAreCountedBeforeComposing() throws {
        let text =
            "kernel: rnn.step\ninputs:\n  x: [" + Array(repeating: "[]", count: 10_000).joined(separator: ", ") + "]\n"
        let error = try XCTUnwrap(loadError(text, limits: LoadLimits(maxElements: 1000)))
        XCTAssertTrue(error.hasPrefix("cases/c.yaml:3:"), error)
        XCTAssertTrue(error.contains("error: the file holds more than 5096 scalars"), error)
        let blockDashes = "kernel: rnn.step\nnotes:\n" + String(repeating: "-\n", count: 10_000)
        XCTAssertTrue(
            loadError(blockDashes, limits: LoadLimits(maxElements: 1000))?.contains(
                "the file holds more than 5096 scalars") == true)
    }

    /// The allowance is for keys and words: a case with exactly `maxElements` elements loads.
    @Test func testACaseAtTheLimitLoads() throws {
        // x 30 + h_prev 1 + W_xh 30 + W_hh 1 = 62 elements; range counted once, not again
        // for its shape.
        let text = """
            kernel: rnn.step
            inputs:
              x: {range: 30, shape: [30]}
              h_prev: [0.5]
              W_xh: {zeros: [1, 30]}
              W_hh: [[1]]

            """
        XCTAssertNil(loadError(text, limits: LoadLimits(maxElements: 62)))
        XCTAssertEqual(
            loadError(text, limits: LoadLimits(maxElements: 61)),
            """
            cases/c.yaml:6:11: error: input 'W_hh' needs 1 elements, over the limit of 61 per case (raise it with --max-elements)
              W_hh: [[1]]
                      ^
            """)
        // linspace and {shape, data} are counted once too.
        let other = """
            kernel: rnn.step
            inputs:
              x: {linspace: [0, 1, 4], shape: [2, 2]}
              h_prev: {shape: [2, 1], data: [0.5, 0.5]}
              W_xh: {zeros: [1, 2]}
              W_hh: [[1]]

            """
        // 4 + 2 + 2 + 1 elements.
        XCTAssertNil(loadError(other, limits: LoadLimits(maxElements: 9)))
        XCTAssertNotNil(loadError(other, limits: LoadLimits(maxElements: 8)))
    }

    /// A 100-kilobyte kernel name or key is not compared letter by letter with every kernel (the
    /// edit distance took minutes for a megabyte, and would take far more than the 3 s allowed here
    /// for this one); suggestions stay what they were.
    @Test func testHugeNamesAreRefusedQuickly() throws {
        let long = String(repeating: "a", count: 100_000)
        /// The first line of the error, with the long name shortened (failures stay readable).
        func firstLine(_ text: String) -> String? {
            let started = Date()
            defer { XCTAssertLessThan(Date().timeIntervalSince(started), 3) }
            return loadError(text, limits: LoadLimits())?.components(separatedBy: "\n").first?.replacingOccurrences(
                of: long, with: "<long>")
        }
        XCTAssertEqual(
            firstLine("kernel: \(long)\n"),
            "cases/c.yaml:1:9: error: unknown kernel '<long>'; `rnnspec kernels` lists them")
        XCTAssertEqual(
            firstLine("kernel: rnn.step\(long)\n"),
            "cases/c.yaml:1:9: error: unknown kernel 'rnn.step<long>'; did you mean 'rnn.step'?")
        XCTAssertEqual(
            firstLine("kernel: rnn.step\n? \(long)\n: 1\n"),
            "cases/c.yaml:2:3: error: unknown field '<long>' in the case; expected one of kernel, title, source, tags, params, inputs, expect, tolerance, gradcheck, xfail, skip, timeout, notes or rng"
        )
        XCTAssertEqual(
            firstLine("kernel: rnn.step\ninputs:\n  ? \(long)\n  : 1\n")?.hasPrefix(
                "cases/c.yaml:3:5: error: rnn.step has no input '<long>' (its inputs:"), true)
        // Short names keep their suggestions.
        XCTAssertEqual(closestMatches(to: "rnn.stpe", in: KernelRegistry.standard.names), ["rnn.step"])
        // The shortcut for long words gives what computing every distance gives.
        let longish = "lstm.step" + String(repeating: "x", count: 100)
        XCTAssertEqual(closestMatches(to: longish, in: KernelRegistry.standard.names), ["lstm.step"])
        XCTAssertEqual(
            closestMatches(to: longish, in: KernelRegistry.standard.names),
            rankedMatches(to: longish, in: KernelRegistry.standard.names))
    }

    // MARK: Goldens obey the same limits

    /// The example: a golden declaring 10^10 elements with one row. It used to crash
    /// `run` and `regen` (reserving 10^10 elements); now it is an UNRESOLVED result with the
    /// numbers, and `regen` replaces it.
    @Test func testAGoldenDeclaringAHugeShapeIsUnresolvedAndRegenRepairsIt() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        let good = try XCTUnwrap(p.golden("step"))
        let bad = good.replacingOccurrences(
            of: "    shape: [2]\n    value: [", with: "    shape: [100000, 100000]\n    value:\n      - [")
        XCTAssertNotEqual(bad, good)
        try bad.write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let r = try p.result("step")
        XCTAssertEqual(r.status, .unresolved)
        let error = "\(r.error!)"
        XCTAssertTrue(
            error.hasPrefix(
                "golden/step.yaml:19:12: error: output 'h' needs 10000000000 elements, over the limit of 50000000 per case (raise it with --max-elements)"
            ), error)
        XCTAssertEqual(try p.result("step", record: .failed).status, .pass)
        XCTAssertEqual(p.golden("step"), good)
    }

    @Test func testGoldenShapesAreCheckedBeforeAllocating() throws {
        func golden(_ shape: String, _ value: String) -> String {
            """
            # Golden file written by rnnspec; do not edit. Regenerate: rnnspec regen c
            format: 1
            case: "c"
            kernel: "rnn.step"
            digest: 00
            outputs:
              h:
                type: real
                dtype: float64
                shape: \(shape)
                value:\(value)

            """
        }
        func parseError(_ text: String, limits: LoadLimits = LoadLimits()) -> String? {
            do { _ = try Golden.parse(SourceText(path: "golden/c.yaml", text: text), limits: limits); return nil } catch
            { return "\(error)" }
        }
        // Declared far beyond the rows written, within 64 bits.
        XCTAssertEqual(
            parseError(golden("[3, 2]", "\n      - [1.0, 2.0]")),
            """
            golden/c.yaml:12:7: error: output 'h': value has shape [1, 2] but the golden says [3, 2]
                  - [1.0, 2.0]
                  ^
            """)
        // Overflowing 64 bits, and an empty tensor with a huge extent.
        XCTAssertEqual(
            parseError(golden("[4611686018427387904, 4]", " []")),
            """
            golden/c.yaml:10:12: error: output 'h': shape [4611686018427387904, 4] overflows a 64-bit element count
                shape: [4611686018427387904, 4]
                       ^
            """)
        XCTAssertEqual(
            parseError(golden("[0, 4611686018427387904]", " []")),
            """
            golden/c.yaml:10:12: error: output 'h': shape [0, 4611686018427387904] is empty, but its non-zero extents multiply to 4611686018427387904, over the limit of 50000000 elements per case (raise it with --max-elements)
                shape: [0, 4611686018427387904]
                       ^
            """)
        // Over the element limit: the same limit as a case, each value counted once.
        let three = golden("[3]", " [1.0, 2.0, 3.0]")
        XCTAssertNil(parseError(three, limits: LoadLimits(maxElements: 3)))
        XCTAssertEqual(
            parseError(three, limits: LoadLimits(maxElements: 2)),
            """
            golden/c.yaml:10:12: error: output 'h' needs 3 elements, over the limit of 2 per case (raise it with --max-elements)
                shape: [3]
                       ^
            """)
        // An overflowing number in a golden points at it.
        XCTAssertEqual(
            parseError(golden("[2]", " [1.0, 1e999]")),
            """
            golden/c.yaml:11:18: error: output 'h': 1e999 overflows float64 (the largest is about 1.8e308); infinities are written .inf and -.inf
                value: [1.0, 1e999]
                             ^
            """)
    }

    // MARK: Shape arithmetic

    @Test func testOneTermDimensionsParseAsTheGeneralPathDoes() throws {
        // A trailing space sends the same text through the general parser.
        for text in ["H", "hidden_features", "3", "0", "-2", "007", "x1", "99999999999999999999", "é", "?"] {
            let fast = Dim(text), general = Dim(text + " ")
            XCTAssertEqual(fast, general, text)
            XCTAssertEqual(fast.symbols, general.symbols, text)
            XCTAssertEqual(
                try fast.evaluate(["H": 5, "hidden_features": 7]),
                try general.evaluate(["H": 5, "hidden_features": 7]), text)
        }
        XCTAssertEqual(try Dim("3").evaluate([:]), 3)
        XCTAssertEqual(Dim("H").symbols, ["H"])
        XCTAssertEqual(Dim("").description, "")
    }

    @Test func testDimArithmeticOverflowIsAnErrorWithTheNumbers() throws {
        XCTAssertEqual(try Dim("4*H").evaluate(["H": 3]), 12)
        XCTAssertEqual(try Dim("4*H").evaluate([:]), nil)
        XCTAssertThrowsError(try Dim("4*H").evaluate(["H": 1 << 62])) { error in
            XCTAssertEqual("\(error)", "4*H overflows a 64-bit integer with H = 4611686018427387904")
        }
        XCTAssertThrowsError(try Dim("I+H").evaluate(["H": Int.max, "I": 1])) { error in
            XCTAssertEqual("\(error)", "I+H overflows a 64-bit integer with H = 9223372036854775807, I = 1")
        }
        XCTAssertEqual(try Dim("2*H+1").evaluate(["H": Int.max / 2]), Int.max)
        XCTAssertThrowsError(try Dim("2*H+1").evaluate(["H": Int.max / 2 + 1]))
        XCTAssertNil(Dim("4*H").solve(for: 8, ["H": 2]))  // nothing unbound
        XCTAssertEqual(Dim("I+H").solve(for: 5, ["I": 2])?.1, 3)
        XCTAssertNil(Dim("I+H").solve(for: 5, ["I": Int.min]))
        XCTAssertNil(Dim("I+2*H").solve(for: Int.max, ["I": -1]))
    }

    /// Zero-size tensors with a 2^62 extent (the example): with the element limit
    /// raised as far as it goes, the declared `4*H` overflows, and that is a located error.
    @Test func testAnOverflowingDeclaredShapeIsALocatedError() throws {
        let text = """
            kernel: lstm.step
            inputs:
              x: {zeros: [0, 1]}
              h_prev: {zeros: [0, 4611686018427387904]}
              c_prev: {zeros: [0, 4611686018427387904]}
              W: {zeros: [0, 1]}

            """
        XCTAssertEqual(
            loadError(text, limits: LoadLimits(maxElements: Int.max)),
            """
            cases/c.yaml:6:6: error: input 'W' has shape [0, 1] and lstm.step expects [4*H, I+H]; axis 0: 4*H overflows a 64-bit integer with H = 4611686018427387904
              W: {zeros: [0, 1]}
                 ^
            """)
        // Under the default limit the empty tensor's other extent is refused first.
        XCTAssertEqual(
            loadError(text, limits: LoadLimits()),
            """
            cases/c.yaml:4:19: error: input 'h_prev': shape [0, 4611686018427387904] is empty, but its non-zero extents multiply to 4611686018427387904, over the limit of 50000000 elements per case (raise it with --max-elements)
              h_prev: {zeros: [0, 4611686018427387904]}
                              ^
            """)
    }
}

/// Decodes one value the way a case's input is decoded: `x: <yaml>`.
func decodeValue(_ yaml: String, kind: ValueKind = .real, limits: LoadLimits = LoadLimits()) throws -> Value {
    let source = SourceText(path: "cases/c.yaml", text: "x: \(yaml)\n")
    guard let root = try NodeReader.compose(source, limits: limits) else {
        throw SpecError("empty", at: source.location(line: 0, column: 0))
    }
    var reader = NodeReader(source: source, limits: limits)
    let entries = try reader.mapping(root, "test")
    return try reader.value(entries[0].value, kind: kind, "input 'x'")
}
