import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Generators and shapes never trap: each hostile argument gives a valid tensor within the
/// element limit or an error at its line and column.
@Suite final class GeneratorLimitTests {
    /// The error text of a value that does not decode, or nil.
    func error(_ yaml: String, limits: LoadLimits = LoadLimits()) -> String? {
        do { _ = try decodeValue(yaml, limits: limits); return nil } catch { return "\(error)" }
    }

    func shape(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [Int]? {
        do { return try decodeValue(yaml).shape } catch {
            XCTFail("\(yaml): \(error)", file: file, line: line); return nil
        }
    }

    @Test func testRangeNeverTraps() {
        // A negative or -inf count (the Double -> Int conversion trapped) is an empty range, as in numpy.
        XCTAssertEqual(shape("{range: [0, -1e300]}"), [0])
        XCTAssertEqual(shape("{range: [1e308, -1e308, 1]}"), [0])  // (stop - start) overflows to -inf
        XCTAssertEqual(shape("{range: [3, 0, -1]}"), [3])
        XCTAssertEqual(shape("{range: -5}"), [0])
        XCTAssertEqual(
            error("{range: [0, 1, 1e-300]}"),
            """
            cases/c.yaml:1:12: error: input 'x': range [0.0, 1.0, 1e-300] needs 9.999999999999999e+299 elements, over the limit of 50000000 per case (raise it with --max-elements)
            x: {range: [0, 1, 1e-300]}
                       ^
            """)
        XCTAssertEqual(
            error("{range: [-1e308, 1e308]}"),
            """
            cases/c.yaml:1:12: error: input 'x': range [-1e+308, 1e+308] needs .inf elements, over the limit of 50000000 per case (raise it with --max-elements)
            x: {range: [-1e308, 1e308]}
                       ^
            """)
        for bad in [
            "{range: [0, 1, 0]}", "{range: .nan}", "{range: [0, .inf]}", "{range: [0, 1, .nan]}", "{range: [-.inf, 0]}",
        ] {
            XCTAssertTrue(error(bad)?.contains("range needs finite bounds and a non-zero step") == true, bad)
        }
        // With the limit raised as far as it goes, a count near 2^63 is still an error.
        XCTAssertTrue(
            error("{range: 9.3e18}", limits: LoadLimits(maxElements: Int.max))?.contains("needs 9.3e+18 elements")
                == true)
    }

    @Test func testLinspaceEyeRandomNeverTrap() {
        XCTAssertEqual(
            error("{linspace: [0, 1, 99999999999999]}"),
            """
            cases/c.yaml:1:22: error: input 'x' needs 99999999999999 elements, over the limit of 50000000 per case (raise it with --max-elements)
            x: {linspace: [0, 1, 99999999999999]}
                                 ^
            """)
        XCTAssertEqual(
            error("{linspace: [0, .inf, 3]}"),
            """
            cases/c.yaml:1:15: error: input 'x': linspace needs a finite start and stop
            x: {linspace: [0, .inf, 3]}
                          ^
            """)
        XCTAssertTrue(error("{linspace: [.nan, 1, 3]}")?.contains("linspace needs a finite start and stop") == true)
        XCTAssertTrue(
            error("{linspace: [-1.7e308, 1.7e308, 3]}")?.contains(
                "linspace from -1.7e+308 to 1.7e+308 overflows float64") == true)
        XCTAssertTrue(error("{linspace: [0, 1, -1]}")?.contains("linspace count must be ≥ 0") == true)
        XCTAssertEqual(shape("{linspace: [0, 1, 0]}"), [0])
        XCTAssertEqual(shape("{linspace: [0, 1, 1]}"), [1])

        XCTAssertTrue(
            error("{eye: 4611686018427387904}")?.contains("eye 4611686018427387904 overflows the element count") == true
        )
        XCTAssertTrue(
            error("{eye: 100000}")?.contains("needs 10000000000 elements, over the limit of 50000000") == true)
        XCTAssertTrue(
            error("{eye: [0, 4611686018427387904]}")?.contains(
                "shape [0, 4611686018427387904] is empty, but its non-zero extents multiply to 4611686018427387904")
                == true)
        XCTAssertTrue(error("{eye: [2, 2, 2]}")?.contains("eye takes N or [rows, columns]") == true)
        XCTAssertEqual(shape("{eye: [0, 3]}"), [0, 3])

        XCTAssertEqual(
            error("{random: normal, shape: [4611686018427387904, 4], seed: 1}"),
            """
            cases/c.yaml:1:28: error: input 'x': shape [4611686018427387904, 4] overflows a 64-bit element count
            x: {random: normal, shape: [4611686018427387904, 4], seed: 1}
                                       ^
            """)
        XCTAssertTrue(
            error("{random: normal, shape: [100000, 100000], seed: 1}")?.contains("needs 10000000000 elements") == true)
        XCTAssertTrue(
            error("{random: normal, shape: [2], seed: 1, mean: .nan}")?.contains("mean must be finite, found .nan")
                == true)
        XCTAssertTrue(
            error("{random: normal, shape: [2], seed: 1, std: .inf}")?.contains("std must be finite, found .inf")
                == true)
        XCTAssertTrue(
            error("{random: normal, shape: [2], seed: 1, std: -1}")?.contains("std must be ≥ 0, found -1.0") == true)
        XCTAssertTrue(
            error("{random: uniform, shape: [2], seed: 1, low: -1.7e308, high: 1.7e308}")?.contains(
                "high − low (1.7e+308 − -1.7e+308) overflows float64") == true)
        XCTAssertTrue(
            error("{random: normal, shape: [64], seed: 1, mean: 1.7e308, std: 1e308}")?.contains("overflows float64")
                == true)
        XCTAssertEqual(shape("{random: uniform, shape: [2], seed: -9223372036854775808}"), [2])
    }

    @Test func testShapesNeverTrap() {
        XCTAssertTrue(
            error("{zeros: [4611686018427387904, 4, 0]}")?.contains(
                "shape [4611686018427387904, 4, 0] overflows a 64-bit element count") == true)
        XCTAssertTrue(
            error("{zeros: [0, 99999999999999]}")?.contains(
                "shape [0, 99999999999999] is empty, but its non-zero extents multiply to 99999999999999, over the limit of 50000000 elements per case"
            ) == true)
        XCTAssertEqual(shape("{zeros: [0, 1000]}"), [0, 1000])
        XCTAssertEqual(shape("{shape: [], data: [1.0]}"), [])
        XCTAssertTrue(error("{shape: [], data: []}")?.contains("shape [] needs 1 numbers but data has 0") == true)
        XCTAssertTrue(error("{shape: [-1], data: []}")?.contains("dimension -1 is negative") == true)
        XCTAssertTrue(
            error("{shape: [9223372036854775807, 9223372036854775807], data: [1]}")?.contains(
                "overflows a 64-bit element count") == true)
        XCTAssertEqual(
            error("{zeros: [" + Array(repeating: "1", count: 65).joined(separator: ", ") + "]}")?.components(
                separatedBy: "\n"
            ).first,
            "cases/c.yaml:1:12: error: input 'x': shape has 65 dimensions; rnnspec tensors have at most 64")
        XCTAssertEqual(shape("{zeros: [" + Array(repeating: "1", count: 64).joined(separator: ", ") + "]}")?.count, 64)
        XCTAssertEqual(shape("[]"), [0])
        XCTAssertEqual(shape("[[]]"), [1, 0])
        XCTAssertEqual(shape("[[], []]"), [2, 0])
        XCTAssertTrue(error("[[], [1]]")?.contains("ragged list") == true)
        XCTAssertTrue(
            error("{range: 2, shape: [3]}")?.contains("shape [3] holds 3 elements but the generator makes 2") == true)
        XCTAssertTrue(
            error("{range: 2, shape: [0, 4611686018427387904]}")?.contains(
                "is empty, but its non-zero extents multiply") == true)
    }

    /// A hostile user's inputs, whole cases: each loads or is an error at a line and column of
    /// the file, never a trap.
    @Test func testHostileCasesGiveLocatedErrors() throws {
        let inputs: [String] = [
            "[1, [2]]", "[[1], 2]", "[1, {a: 1}]", "{1: 2}", "{? [1]: 2}", "null", "~", "", "[true, false]",
            "[0x10, 1]", "[1_000, 1]", "[., 1]", "[e5, 1]", "[-, 1]", "[+-1, 1]", "[inf, -inf]", "[NaN, nan]",
            "|\n    1.0", "[! 1.0, 1]", "{zeros: {a: 1}}", "{full: 2, value: 1}", "{full: [2], value: .nan}",
            "{eye: [2, 2], scale: .inf}", "{shape: [2], data: [[1], [2]]}", "{shape: [2.0], data: [1, 2]}",
            "{data: [1]}", "{shape: [1]}", "{range: []}", "{range: [1, 2, 3, 4]}", "{linspace: 3}", "{random: normal}",
            "{random: cauchy, shape: [1], seed: 1}", "{random: normal, shape: [1], seed: 1.5}",
            "{random: normal, shape: [1], seed: 1, low: 0}",
            String(repeating: "[", count: 63) + "1" + String(repeating: "]", count: 63),
            "[" + Array(repeating: "1", count: 100_000).joined(separator: ", ") + "]",
        ]
        for input in inputs {
            let text = simpleStepCase.replacingOccurrences(of: "x: [1.0, -1.0]", with: "x: \(input)")
            do {
                _ = try CaseLoader().load(data: Data(text.utf8), id: "c", displayPath: "cases/c.yaml")
            } catch let error as SpecError {
                XCTAssertEqual(error.location.file, "cases/c.yaml", input)
                XCTAssertGreaterThanOrEqual(error.location.line, 1, "\(input): \(error)")
                XCTAssertGreaterThanOrEqual(error.location.column, 1, "\(input): \(error)")
            }
        }
        let files: [String] = [
            "1: 2\nkernel: rnn.step\n", "[1]: 2\n", "kernel: rnn.step\n---\nkernel: rnn.step\n",
            "kernel: rnn.step\ninputs: {x, h_prev}\n",
            "kernel: rnn.step\ninputs:\n  x:\n  -\n  -\n", "kernel: [rnn.step]\n", "kernel: rnn.step\ntags: {a: 1}\n",
            "kernel: rnn.step\nparams: {activation: [a]}\n", "kernel: rnn.step\ntolerance: {abs: 1e999}\n",
            "kernel: rnn.step\ntolerance: {abs: '1e-6'}\n",
            "kernel: rnn.bptt\ngradcheck: {wrt: [W_hh], eps: 1e999}\n",
            "kernel: rnn.step\ninputs:\n  x: " + String(repeating: "0", count: 1_000_000) + "\n",
        ]
        for text in files {
            do {
                _ = try CaseLoader().load(data: Data(text.utf8), id: "c", displayPath: "cases/c.yaml")
                XCTFail("\(text) loads")
            } catch let error as SpecError {
                XCTAssertGreaterThanOrEqual(error.location.line, 1, "\(text.prefix(80)): \(error)")
            }
        }
    }
}
