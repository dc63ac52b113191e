import Foundation
import TestAssertions
import Testing
import ZIPFoundation

@testable import RNNSpec
@testable import RNNSpecCLI

/// `.npy`/`.npz` reading and writing, against files NumPy wrote (Tests/Fixtures/npy, from
/// tools/reference/npy_fixtures.py), hostile files, and file inputs in cases.
@Suite final class NpyFileTests {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/npy")

    private func fixture(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(name)) }

    private func expected() throws -> [String: [String: Any]] {
        let json = try JSONSerialization.jsonObject(with: try fixture("expected.json")) as! [String: Any]
        return json["files"] as! [String: [String: Any]]
    }

    private func check(_ a: NpyArray, _ e: [String: Any], _ name: String) {
        XCTAssertEqual(a.shape, e["shape"] as? [Int], name)
        switch a.values {
        case .reals(let v):
            XCTAssertEqual(v.map { String(format: "%016llx", $0.bitPattern) }, e["values"] as? [String], name)
        case .integers(let v): XCTAssertEqual(v.map { NSNumber(value: $0) }, (e["values"] as? [NSNumber]), name)
        case .booleans(let v): XCTAssertEqual(v, e["values"] as? [Bool], name)
        }
    }

    /// Every dtype, both byte orders, C and Fortran order, versions 1.0–3.0, stored and deflated
    /// `.npz`: the values NumPy saved, bit for bit.
    @Test func testEveryFileNumPyWroteReadsExactly() throws {
        let files = try expected()
        XCTAssertGreaterThanOrEqual(files.count, 29)
        for (name, e) in files where !name.contains(":") {
            check(try NpyReader.read(try fixture(name)), e, name)
        }
        for archive in ["weights_stored.npz", "weights_deflated.npz"] {
            for key in ["weight_ih_l0", "bias"] {
                let member = try NpzReader.member(try fixture(archive), key: key, maxBytes: 1 << 20)
                check(try NpyReader.read(member), files["weights.npz:\(key)"]!, "\(archive):\(key)")
            }
        }
    }

    /// Complex, structured, object and string arrays are refused, naming the dtype.
    @Test func testUnsupportedDtypesAreNamed() throws {
        let cases = [
            "complex.npy": "unsupported dtype '<c16' (complex)",
            "structured.npy": "structured and record arrays are not supported",
            "object.npy": "unsupported dtype '|O' (Python objects)",
            "strings.npy": "unsupported dtype '<U2' (strings)",
        ]
        for (name, message) in cases {
            XCTAssertThrowsError(try NpyReader.read(try fixture(name)), name) {
                XCTAssertTrue("\($0)".contains(message), "\(name): \($0)")
            }
        }
    }

    private func npy(_ header: String, version: UInt8 = 1, data: [UInt8] = []) -> Data {
        var h = header
        while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
        h += "\n"
        let n = h.utf8.count
        return Data(NpyReader.magic + [version, 0, UInt8(n & 0xff), UInt8(n >> 8)] + Array(h.utf8) + data)
    }

    private func readError(_ d: Data, limit: Int = 1_000) -> String {
        do {
            _ = try NpyReader.read(d, checkCount: { if $0 > limit { throw NpyError("over the limit: \($0)") } })
            return "(read)"
        } catch { return "\(error)" }
    }

    /// Truncated files, lying headers, huge shapes and garbage are errors that say what is wrong;
    /// a huge shape is refused from the header, before any data is read.
    @Test func testHostileNpyFiles() throws {
        let good = try fixture("f8_le.npy")
        XCTAssertTrue(
            readError(good.prefix(good.count - 3)).contains(
                "truncated: the shape [2, 3] of 8-byte elements needs 48 bytes of data but the file has 45"))
        XCTAssertTrue(readError(good.prefix(20)).contains("truncated: the header says it is"))
        XCTAssertTrue(readError(good + Data([0])).contains("1 bytes after the data"))
        XCTAssertTrue(readError(Data("PK\u{3}\u{4}not npy".utf8)).contains("not an .npy file"))
        XCTAssertTrue(
            readError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", version: 9)).contains(
                "format version 9.0 is not supported"))
        XCTAssertTrue(
            readError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }")).contains(
                "over the limit: 1000000000000"))
        XCTAssertTrue(
            readError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")).contains(
                "overflows a 64-bit element count"))
        XCTAssertTrue(
            readError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }")).contains("negative dimension"))
        XCTAssertTrue(
            readError(
                npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data: [UInt8](repeating: 0, count: 16))
            ).contains("needs 24 bytes of data but the file has 16"))
        XCTAssertTrue(
            readError(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", data: [7])).contains(
                "a bool element is 7"))
        XCTAssertTrue(
            readError(npy("{'descr': '<f8', 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8))).contains(
                "no 'fortran_order'"))
        XCTAssertTrue(
            readError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'evil': 1}")).contains(
                "unknown key 'evil'"))
        XCTAssertTrue(readError(npy("[1, 2, 3]")).contains("not a Python dict literal"))
        XCTAssertTrue(readError(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)")).contains("the header"))
        // A 4-byte header length far beyond the file.
        XCTAssertTrue(
            readError(Data(NpyReader.magic + [2, 0, 0xff, 0xff, 0xff, 0x7f] + [UInt8](repeating: 0x20, count: 10)))
                .contains("truncated"))
    }

    /// Zip bombs: a member whose declared size is over the limit is refused before inflating; one
    /// that lies about its size (declares 48 bytes, inflates to 4 MiB, four times the limit) is stopped at
    /// the limit.
    @Test func testZipBombsAreRefused() throws {
        let big = 4 << 20
        let archive = try Archive(data: Data(), accessMode: .create)
        let zeros = Data(count: 1 << 16)
        try archive.addEntry(with: "x.npy", type: .file, uncompressedSize: Int64(big), compressionMethod: .deflate) {
            _, size in zeros.prefix(size)
        }
        let bomb = try XCTUnwrap(archive.data)
        XCTAssertLessThan(bomb.count, 200_000)
        XCTAssertThrowsError(try NpzReader.member(bomb, key: "x", maxBytes: 1 << 20)) {
            XCTAssertTrue("\($0)".contains("declares 4194304 bytes uncompressed, over the limit of 1048576"), "\($0)")
        }
        // Patch the declared uncompressed size (local header offset 22, central directory offset 24) to 48.
        var lying = [UInt8](bomb)
        for (signature, offset) in [([0x50, 0x4b, 0x03, 0x04] as [UInt8], 22), ([0x50, 0x4b, 0x01, 0x02], 24)] {
            var i = 0
            while i + 4 <= lying.count {
                if Array(lying[i..<(i + 4)]) == signature {
                    lying[i + offset] = 48; lying[i + offset + 1] = 0; lying[i + offset + 2] = 0;
                    lying[i + offset + 3] = 0
                }
                i += 1
            }
        }
        XCTAssertThrowsError(try NpzReader.member(Data(lying), key: "x", maxBytes: 1 << 20)) {
            let m = "\($0)"
            XCTAssertTrue(m.contains("refused as a zip bomb") || m.contains("cannot be extracted"), m)
        }
        XCTAssertThrowsError(try NpzReader.member(Data("not a zip".utf8), key: "x", maxBytes: 100)) {
            XCTAssertTrue("\($0)".contains("not a zip archive"))
        }
        XCTAssertThrowsError(
            try NpzReader.member(try fixture("weights_stored.npz"), key: "weight_ih_10", maxBytes: 1 << 20)
        ) {
            XCTAssertTrue(
                "\($0)".contains("the archive has no array 'weight_ih_10'; did you mean 'weight_ih_l0'?"), "\($0)")
        }
    }

    /// NpyWriter writes what numpy.save writes, byte for byte, and reads back every value.
    @Test func testWriterMatchesNumPySaveAndReadsBack() throws {
        let files = try expected()
        for (name, dtype) in [
            ("f8_le.npy", NpyDType.float(bytes: 8)), ("i8_le.npy", .int(bytes: 8)), ("b1_le.npy", .bool),
            ("f4_le.npy", .float(bytes: 4)),
        ] {
            let a = try NpyReader.read(try fixture(name))
            XCTAssertEqual(a.dtype, dtype)
            let written = NpyWriter.data(a)
            XCTAssertEqual([UInt8](written), [UInt8](try fixture(name)), "\(name) byte for byte")
            check(try NpyReader.read(written), files[name]!, name)
        }
        let npz = try NpyWriter.npz([
            ("h", NpyArray(dtype: .float(bytes: 8), shape: [2], values: .reals([1.5, -0.0]))),
            ("indices", NpyArray(dtype: .int(bytes: 8), shape: [3], values: .integers([3, 1, 2]))),
        ])
        XCTAssertEqual(
            try NpyReader.read(try NpzReader.member(npz, key: "h", maxBytes: 1 << 20)).values, .reals([1.5, -0.0]))
        XCTAssertEqual(
            try NpyReader.read(try NpzReader.member(npz, key: "indices", maxBytes: 1 << 20)).values,
            .integers([3, 1, 2]))
    }

    /// In a case: paths relative to the case file, inside the cases root only; the digest covers
    /// the file's values (a changed file makes the golden STALE); errors name the file.
    @Test func testFileInputsInCases() throws {
        let p = try TempProject()
        let dataDir = p.root.appendingPathComponent("cases/sub/data")
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        func save(_ name: String, _ values: [Double], _ shape: [Int]) throws {
            try NpyWriter.data(NpyArray(dtype: .float(bytes: 8), shape: shape, values: .reals(values))).write(
                to: dataDir.appendingPathComponent(name))
        }
        try save("x.npy", [1.0, -1.0], [2])
        try NpyWriter.npz([
            ("W_hh", NpyArray(dtype: .float(bytes: 8), shape: [2, 2], values: .reals([0.5, 0, 0, 0.5])))
        ])
        .write(to: dataDir.appendingPathComponent("w.npz"))
        let text = """
            kernel: rnn.step
            inputs:
              x: {npy: data/x.npy}
              h_prev: [0.5, 0.0]
              W_xh: {eye: 2}
              W_hh: {npz: data/w.npz, key: W_hh}

            """
        try p.writeCase("sub/c", text)
        _ = try p.result("sub/c", record: .missing)
        XCTAssertNotNil(p.golden("sub/c"))
        XCTAssertEqual(try p.result("sub/c").status, .pass)
        try save("x.npy", [1.0, -0.5], [2])
        XCTAssertEqual(try p.result("sub/c").status, .stale)

        try p.writeCase("sub/c", text.replacingOccurrences(of: "data/x.npy", with: "../../outside.npy"))
        var r = try p.result("sub/c")
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertTrue("\(r.error!)".contains("input 'x': '../../outside.npy' leaves the cases root"), "\(r.error!)")

        // A link leaving the cases root is refused.
        let outside = p.root.appendingPathComponent("outside.npy")
        try NpyWriter.data(NpyArray(dtype: .float(bytes: 8), shape: [2], values: .reals([1, 2]))).write(to: outside)
        try FileManager.default.createSymbolicLink(
            at: dataDir.appendingPathComponent("link.npy"), withDestinationURL: outside)
        try p.writeCase("sub/c", text.replacingOccurrences(of: "data/x.npy", with: "data/link.npy"))
        r = try p.result("sub/c")
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertTrue("\(r.error!)".contains("'data/link.npy': cannot read it"), "\(r.error!)")

        try p.writeCase("sub/c", text.replacingOccurrences(of: "key: W_hh", with: "key: W_hx"))
        r = try p.result("sub/c")
        XCTAssertTrue(
            "\(r.error!)".contains(
                "cases/sub/c.yaml:6:15: error: input 'W_hh': array 'W_hx' of 'data/w.npz': the archive has no array 'W_hx'; did you mean 'W_hh'?"
            ), "\(r.error!)")

        try p.writeCase("sub/c", text.replacingOccurrences(of: "data/x.npy", with: "data/missing.npy"))
        XCTAssertTrue(
            "\(try p.result("sub/c").error!)".contains("input 'x': 'data/missing.npy': the file does not exist"))

        // A shape the kernel cannot take is refused from the header.
        try save("cube.npy", [Double](repeating: 0, count: 8), [2, 2, 2])
        try p.writeCase("sub/c", text.replacingOccurrences(of: "data/x.npy", with: "data/cube.npy"))
        let cube = "\(try p.result("sub/c").error!)"
        XCTAssertTrue(
            cube.contains(
                "input 'x': 'data/cube.npy': its shape [2, 2, 2] does not fit: rnn.step expects [I] or [B, I]"), cube)

        try save("big.npy", [Double](repeating: 0, count: 100), [100])
        try p.writeCase("sub/c", text.replacingOccurrences(of: "data/x.npy", with: "data/big.npy"))
        let report = try p.run { $0.limits = LoadLimits(maxElements: 50) }
        let big = try XCTUnwrap(report.results.first { $0.id == "sub/c" })
        XCTAssertTrue(
            "\(big.error!)".contains("'data/big.npy': its shape holds 100 elements, over the limit of 50 per case"),
            "\(big.error!)")
    }

    /// `rnnspec show CASE --npz FILE` writes every output, readable back value for value.
    @Test func testShowWritesOutputsAsNpz() throws {
        let p = try TempProject()
        try p.writeCase("c", simpleStepCase)
        let fe = FrontEnd(project: p.project, environment: [:], stdout: { _ in }, stderr: { _ in })
        let out = p.root.appendingPathComponent("out.npz").path
        XCTAssertEqual(try fe.show(casePath: "cases/c.yaml", npz: out, options: RunOptions()), .success)
        let c = try Runner(project: p.project, options: RunOptions()).load(
            url: p.root.appendingPathComponent("cases/c.yaml"), id: "c")
        let reply = try Execution.run(ExecutionRequest(c), kernel: c.kernel)
        let data = try Data(contentsOf: URL(fileURLWithPath: out))
        for (name, value) in reply.outputs.entries {
            guard case .real(let r) = value else { continue }
            let a = try NpyReader.read(try NpzReader.member(data, key: name, maxBytes: 1 << 20))
            XCTAssertEqual(a.shape, r.shape, name)
            XCTAssertEqual(a.values, .reals(r.tensor.scalars), name)
        }
    }
}
