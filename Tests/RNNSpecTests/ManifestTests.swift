import Foundation
import TestAssertions
import Testing

/// The manifest stays acceptable for a dependency by version. SwiftPM refuses a versioned dependency's
/// product when one of the targets it builds has `unsafeFlags`, so the AVX2 + FMA kernels get their
/// instructions from function attributes in C (RNNKernelsSIMD), not from flags, and the only unsafe flags
/// are the static linking of the `rnnspec` executable, a target that no library product contains
/// (`.ci/consumer-test.sh` depends on the package by version and builds).
@Suite final class ManifestTests {
    @Test func testUnsafeFlagsOnlyLinkTheExecutable() throws {
        let manifest = repositoryRoot.appendingPathComponent("Package.swift")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func numbered(_ indices: [Int]) -> [String] { indices.map { "Package.swift:\($0 + 1): \(lines[$0])" } }

        // `unsafeFlags` appears once, inside the definition of `staticSwiftRuntime` (the `#if` branch).
        let unsafe = lines.indices.filter { lines[$0].contains("unsafeFlags") && !lines[$0].hasPrefix("//") }
        let definition = lines.indices.filter { lines[$0].contains("let staticSwiftRuntime: [LinkerSetting] = [") }
        XCTAssertEqual(
            unsafe.count, 1, "unsafeFlags outside staticSwiftRuntime:\n" + numbered(unsafe).joined(separator: "\n"))
        XCTAssertEqual(definition.count, 2, "staticSwiftRuntime is defined once per #if branch")
        if let u = unsafe.first, let d = definition.first {
            XCTAssertEqual(u, d + 1, "the unsafe flags are not the definition of staticSwiftRuntime")
        }
        // ...and is used once: by the executable target `rnnspec`, whose only dependency is RNNSpecCLI.
        let uses = lines.indices.filter {
            lines[$0].contains("staticSwiftRuntime") && !lines[$0].contains("let staticSwiftRuntime")
                && !lines[$0].hasPrefix("//")
        }
        XCTAssertEqual(
            numbered(uses),
            numbered(
                lines.indices.filter {
                    lines[$0].contains(
                        #".executableTarget(name: "rnnspec", dependencies: ["RNNSpecCLI"], linkerSettings: staticSwiftRuntime)"#
                    )
                }), "staticSwiftRuntime is used by another target")
        XCTAssertEqual(uses.count, 1)
        // No library product contains the executable's targets.
        let libraries = lines.filter { $0.contains(".library(") }
        XCTAssertEqual(libraries.count, 3, "the library products moved: check this test")
        for library in libraries {
            XCTAssertFalse(library.contains("\"rnnspec\"") || library.contains("RNNSpecCLI"), library)
        }
        // The kernels' target is still there, so this test is about the real manifest.
        XCTAssertTrue(text.contains("\"RNNKernelsSIMD\""), "Package.swift no longer declares RNNKernelsSIMD")
    }
}

/// The built `rnnspec` executable needs no Swift shared library on Linux (`staticSwiftRuntime` in
/// Package.swift): its dynamic section names only the C and C++ runtime.
@Suite final class StaticLinkTests {
    @Test func testTheExecutableLinksSwiftStatically() throws {
        #if os(Linux)
        let readelf = URL(fileURLWithPath: "/usr/bin/readelf")
        guard FileManager.default.isExecutableFile(atPath: readelf.path) else {
            throw XCTSkip("no /usr/bin/readelf to read the executable's dynamic section")
        }
        let process = Process()
        process.executableURL = readelf
        process.arguments = ["--dynamic", rnnspecBinary.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let needed = String(decoding: data, as: UTF8.self).split(separator: "\n")
            .filter { $0.contains("(NEEDED)") }
            .compactMap { line in line.split(separator: "[").last?.split(separator: "]").first.map(String.init) }
        XCTAssertTrue(needed.contains { $0.hasPrefix("libc.so") }, "no libc in \(needed): not the dynamic section")
        let swift = needed.filter {
            $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") || $0.hasPrefix("lib_Foundation")
                || $0.hasPrefix("libdispatch") || $0.hasPrefix("libBlocksRuntime")
        }
        XCTAssertEqual(swift, [], "the rnnspec executable loads Swift's shared libraries: \(needed)")
        #else
        throw XCTSkip("static linking of the Swift runtime is set for Linux only")
        #endif
    }

    /// The executable is linked at a fixed address (`-no-pie`): a position-independent one had 82,000
    /// relocations to apply, each process, before `main`.
    @Test func testTheExecutableIsNotPositionIndependent() throws {
        #if os(Linux)
        let handle = try FileHandle(forReadingFrom: rnnspecBinary)
        defer { try? handle.close() }
        let header = try XCTUnwrap(try handle.read(upToCount: 18))
        XCTAssertEqual(Array(header.prefix(4)), [0x7F, 0x45, 0x4C, 0x46], "not an ELF file")
        // e_type, little-endian at offset 16: 2 is ET_EXEC, 3 is ET_DYN (a position-independent executable).
        XCTAssertEqual(
            UInt16(header[16]) | UInt16(header[17]) << 8, 2, "the rnnspec executable is position-independent")
        #else
        throw XCTSkip("the executable's link flags are set for Linux only")
        #endif
    }
}
