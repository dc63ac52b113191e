import Foundation
import TestAssertions
import Testing

@testable import RNNKernels
@testable import RNNSpec

/// `rnnspec export`: `.npy` files byte for byte, `case.json`, and where an export may be written.
@Suite final class ExportTests {
    @Test func testNpyFilesAreVersionOneLittleEndianCOrderByteForByte() throws {
        let x = Value.real(RealTensor(Tensor(shape: [2, 3], scalars: [1, -2, 0.5, .nan, -0.0, .infinity])))
        let data = try XCTUnwrap(npyBytes(x))
        let bytes = [UInt8](data)
        XCTAssertEqual(
            Array(bytes[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0], "magic \\x93NUMPY, version 1.0")
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "the data starts at a multiple of 64")
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix("\n"))
        XCTAssertEqual(
            header.dropLast().drop { $0 != "}" }.dropFirst().allSatisfy { $0 == " " }, true, "padded with spaces")
        let payload = Array(bytes[(10 + headerLength)...])
        XCTAssertEqual(payload.count, 6 * 8)
        for (k, v) in [1, -2, 0.5, Double.nan, -0.0, .infinity].enumerated() {
            let word = (0..<8).reduce(UInt64(0)) { $0 | UInt64(payload[k * 8 + $1]) << (8 * $1) }
            XCTAssertEqual(word, v.bitPattern, "element \(k), little-endian")
        }

        let f32 = try XCTUnwrap(npyBytes(.real(Tensor<Float>(shape: [], scalars: [0.1]))))
        let h32 = npyHeader(f32)
        XCTAssertTrue(h32.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (), }"), h32)
        XCTAssertEqual(Array(f32.suffix(4)), withUnsafeBytes(of: Float(0.1).bitPattern.littleEndian, Array.init))
        let ints = try XCTUnwrap(npyBytes(.integer(Tensor(shape: [3], scalars: [Int.min, 0, 7]))))
        XCTAssertTrue(npyHeader(ints).hasPrefix("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"))
        XCTAssertEqual(Array(ints.suffix(8)), [7, 0, 0, 0, 0, 0, 0, 0])
        let bools = try XCTUnwrap(npyBytes(.boolean(Tensor(shape: [2], scalars: [true, false]))))
        XCTAssertTrue(npyHeader(bools).hasPrefix("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }"))
        XCTAssertEqual(Array(bools.suffix(2)), [1, 0])
        XCTAssertNil(npyBytes(.string(Tensor(shape: [1], scalars: ["a"]))))
    }

    /// The `.npy` bytes `rnnspec export` writes for a value (nil for strings and lists).
    func npyBytes(_ value: Value) -> Data? { NpyArray(value).map(NpyWriter.data) }

    /// The header dict of an `.npy` file's bytes.
    func npyHeader(_ data: Data) -> String {
        let bytes = [UInt8](data)
        return String(decoding: bytes[10..<(10 + (Int(bytes[8]) | Int(bytes[9]) << 8))], as: UTF8.self)
    }

    @Test func testExportWritesCaseJSONAndOneNpyPerInputExpectationAndGoldenOutput() throws {
        let p = try TempProject()
        try p.writeCase(
            "dir/a",
            simpleStepCase + "tags: [t]\nsource: \"by hand\"\nexpect:\n  a: {value: [1.25, -1.0], abs: 1e-12}\n")
        try p.writeCase(
            "clip", "kernel: grad.clip_norm\ninputs: {g: [[3.0, 4.0], [[1.0], [2.0]]]}\nparams: {max_norm: 1.0}\n")
        _ = try p.run(record: .all)
        try p.writeCase("new", simpleStepCase)
        let out = p.root.appendingPathComponent("export")
        let summary = try SuiteExport(project: p.project).export(paths: [], to: out.path)
        XCTAssertEqual(summary.exported, ["clip", "dir/a", "new"])
        XCTAssertEqual(summary.withoutGolden, ["new"])
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("dir/a/case.json")))
                as? [String: Any])
        XCTAssertEqual(json["kernel"] as? String, "rnn.step")
        XCTAssertEqual(json["params"] as? [String: String], ["activation": "tanh", "dtype": "float64"])
        XCTAssertEqual(json["tags"] as? [String], ["t"])
        XCTAssertEqual(json["source"] as? String, "by hand")
        let golden = try XCTUnwrap(json["golden"] as? [String: Any])
        XCTAssertEqual((golden["digest"] as? String)?.count, 64)
        let h = try XCTUnwrap((golden["outputs"] as? [String: Any])?["h"] as? [String: Any])
        XCTAssertEqual(h["file"] as? String, "golden/h.npy")
        XCTAssertEqual(
            try Data(contentsOf: out.appendingPathComponent("dir/a/golden/h.npy")),
            npyBytes(try XCTUnwrap(Golden.parse(data: Data(contentsOf: p.goldenURL("dir/a")), path: "g")).output("h")!))
        let expectA = try XCTUnwrap((json["expect"] as? [String: Any])?["a"] as? [String: Any])
        XCTAssertEqual(expectA["abs"] as? Double, 1e-12)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("dir/a/inputs/W_hh.npy").path))
        // A list input is one file per tensor.
        let clip = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("clip/case.json")))
                as? [String: Any])
        let g = try XCTUnwrap((clip["inputs"] as? [String: Any])?["g"] as? [String: Any])
        XCTAssertEqual(
            (g["list"] as? [[String: Any]])?.map { $0["file"] as? String }, ["inputs/g.0.npy", "inputs/g.1.npy"])
        // A case without a golden has no outputs.
        let new = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("new/case.json")))
                as? [String: Any])
        XCTAssertTrue(new["golden"] is NSNull)
        // Exporting again into the same directory is allowed; into another non-empty one, or under a root, is not.
        XCTAssertEqual(try SuiteExport(project: p.project).export(paths: [], to: out.path).exported.count, 3)
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("other"), withIntermediateDirectories: true)
        try "mine".write(to: p.root.appendingPathComponent("other/notes.txt"), atomically: true, encoding: .utf8)
        for (target, message) in [
            ("other", "is not empty and is not an earlier export"), ("golden/x", "is under the golden root"),
            ("cases/x", "is under the cases root"),
        ] {
            XCTAssertThrowsError(
                try SuiteExport(project: p.project).export(paths: [], to: p.root.appendingPathComponent(target).path)
            ) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
    }
}
