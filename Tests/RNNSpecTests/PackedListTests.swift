import Foundation
import RNNKernels
import TestAssertions
import Testing
import Yams

@testable import RNNSpec

/// Long flow lists of plain scalars are kept as text by the pre-scan (not as Yams nodes):
/// the values, the shapes and every error, with its line and column, are the same as through
/// Yams.
@Suite final class PackedListTests {
    /// Decodes `x: <yaml>` both ways: with packing (as cases and goldens are read) and without.
    func decodeBoth(_ yaml: String, kind: ValueKind = .real, limits: LoadLimits = LoadLimits()) -> (
        packed: Result<Value, SpecError>, plain: Result<Value, SpecError>, lists: Int
    ) {
        let source = SourceText(path: "cases/c.yaml", text: "x: \(yaml)\n")
        var lists = 0
        func run(_ pack: Bool) -> Result<Value, SpecError> {
            do {
                var reader = NodeReader(source: source, limits: limits)
                let root: Node?
                if pack {
                    let composed = try NodeReader.composePacked(source, limits: limits)
                    root = composed.root
                    reader.packed = composed.packed
                    lists = composed.packed.count
                } else {
                    root = try NodeReader.compose(source, limits: limits)
                }
                let entries = try reader.mapping(root!, "test")
                return .success(try reader.value(entries[0].value, kind: kind, "input 'x'"))
            } catch let error as SpecError {
                return .failure(error)
            } catch {
                return .failure(SpecError("\(error)", at: source.location(line: 0, column: 0)))
            }
        }
        return (run(true), run(false), lists)
    }

    func assertSame(
        _ yaml: String, kind: ValueKind = .real, limits: LoadLimits = LoadLimits(), lists: Int,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let r = decodeBoth(yaml, kind: kind, limits: limits)
        XCTAssertEqual(r.lists, lists, "packed lists", file: file, line: line)
        switch (r.packed, r.plain) {
        case let (.success(a), .success(b)): XCTAssertEqual(a, b, file: file, line: line)
        case let (.failure(a), .failure(b)): XCTAssertEqual("\(a)", "\(b)", file: file, line: line)
        default: XCTFail("packed \(r.packed) but plain \(r.plain)", file: file, line: line)
        }
    }

    func numbers(_ n: Int, perLine: Int = 10, _ item: (Int) -> String = { "\(Double($0) / 8)" }) -> String {
        var rows: [String] = []
        for start in stride(from: 0, to: n, by: perLine) {
            rows.append((start..<min(n, start + perLine)).map(item).joined(separator: ", "))
        }
        return "[" + rows.joined(separator: ",\n    ") + "]"
    }

    @Test func testValuesAndShapesAreTheSame() throws {
        // (NaN is not equal to itself: checked below.)
        let spellings = ["0.5", "-1", "+4", "1e-3", "-2.5E+10", "-.inf", ".inf", "7", "0", "1.7976931348623157e308"]
        assertSame(numbers(200) { spellings[$0 % spellings.count] }, lists: 1)
        assertSame("[" + numbers(64) + ", " + numbers(64) + "]", lists: 2)  // [2, 64]
        assertSame("{shape: [10, 20], data: " + numbers(200) + "}", lists: 1)
        assertSame("{range: " + numbers(3) + "}", lists: 0)  // short: Yams
        assertSame(numbers(100) { "\($0 % 7)" }, kind: .integer, lists: 1)
        assertSame(numbers(100) { ["I", "like", "math", "true", "1.0"][$0 % 5] }, kind: .string, lists: 1)
        assertSame(numbers(100) { $0 % 2 == 0 ? "true" : "False" }, kind: .boolean, lists: 1)
        // A row with a quoted item is not packed; its neighbour is, in order.
        assertSame("[" + numbers(64) + ", " + numbers(64) { $0 == 5 ? "\"1\"" : "1" } + "]", kind: .string, lists: 1)
        // Lists of tensors.
        assertSame("[" + numbers(70) + ", [[1.0], [2.0]]]", kind: .realList, lists: 1)
        assertSame(numbers(70), kind: .realList, lists: 1)
        guard case .success(.real(let r)) = decodeBoth(numbers(200)).packed else { return XCTFail() }
        XCTAssertEqual(r.shape, [200])
        XCTAssertEqual(r.tensor.scalars[199], 199.0 / 8)
        guard case .success(.real(let n)) = decodeBoth(numbers(100) { $0 == 3 ? ".nan" : "1" }).packed else {
            return XCTFail()
        }
        XCTAssertTrue(n.tensor.scalars[3].isNaN)
        XCTAssertEqual(n.tensor.scalars.filter { $0 == 1 }.count, 99)
    }

    @Test func testErrorsInsidePackedListsPointAtTheItem() throws {
        // A word, an overflow, an integer with a fraction, the limit passed in the middle.
        assertSame(numbers(100) { $0 == 73 ? "abc" : "1.5" }, lists: 1)
        assertSame(numbers(100) { $0 == 88 ? "1e999" : "1.5" }, lists: 1)
        assertSame(numbers(100) { $0 == 42 ? "2.0" : "1" }, kind: .integer, lists: 1)
        assertSame(numbers(100) { $0 == 42 ? "maybe" : "true" }, kind: .boolean, lists: 1)
        assertSame(numbers(100), limits: LoadLimits(maxElements: 57), lists: 1)
        assertSame("[" + numbers(64) + ", " + numbers(64) + "]", limits: LoadLimits(maxElements: 100), lists: 2)
        assertSame("{shape: [10, 11], data: " + numbers(100) + "}", lists: 1)
        assertSame("[" + numbers(64) + ", " + numbers(65) + "]", lists: 2)  // ragged
        let r = decodeBoth(numbers(100) { $0 == 73 ? "abc" : "1.5" })
        guard case .failure(let error) = r.packed else { return XCTFail() }
        XCTAssertEqual(
            "\(error)",
            """
            cases/c.yaml:8:20: error: input 'x': an element must be a number, found 'abc'
                1.5, 1.5, 1.5, abc, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5,
                               ^
            """)
        guard case .failure(let limit) = decodeBoth(numbers(100), limits: LoadLimits(maxElements: 57)).packed else {
            return XCTFail()
        }
        XCTAssertEqual(
            limit.message, "input 'x' needs 1 elements, over the limit of 57 per case (raise it with --max-elements)")
        XCTAssertEqual(limit.location.line, 6)
    }

    /// Whole cases and goldens: a case with long lists loads to the same digest, and a golden
    /// with long rows read through YAML equals the canonical reader's.
    @Test func testCasesAndGoldensReadTheSame() throws {
        let p = try TempProject()
        let x = numbers(128) { "\(Double($0 % 13) / 4 - 1)" }
        let text = """
            kernel: rnn.step
            inputs:
              x: {shape: [2, 64], data: \(x)}
              h_prev: [[0.5, 0.0], [0.1, 0.2]]
              W_xh: {zeros: [2, 64]}
              W_hh: {eye: 2, scale: 0.5}

            """
        try p.writeCase("long", text)
        _ = try p.run(record: .all)
        XCTAssertNotNil(p.golden("long"))
        XCTAssertEqual(try p.result("long").status, .pass)
        // Loaded packed and unpacked (CRLF line ends turn packing off): the same digest.
        let packedCase = try CaseLoader().load(data: Data(text.utf8), id: "long", displayPath: "cases/long.yaml")
        let crlf = try CaseLoader().load(
            data: Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), id: "long",
            displayPath: "cases/long.yaml")
        XCTAssertEqual(packedCase.digest, crlf.digest)
        // A golden of 200-wide rows: the YAML path (a comment line turns the canonical reader off) packs each row.
        let wide = Golden(
            caseID: "g", kernel: "k", digest: "00",
            outputs: [
                ("h", .real(RealTensor(Tensor(shape: [3, 200], scalars: (0..<600).map { Double($0) / 3 })))),
                ("t", .integer(Tensor(shape: [100], scalars: Array(0..<100)))),
            ])
        let written = wide.serialized()
        let canonical = try XCTUnwrap(Golden.parseCanonical(written))
        let viaYAML = try Golden.parseYAML(SourceText(path: "g.yaml", text: "# hand edit\n" + written))
        XCTAssertEqual(viaYAML.outputs.map { $0.value }, canonical.outputs.map { $0.value })
        XCTAssertEqual(viaYAML.serialized(), written)
    }
}
