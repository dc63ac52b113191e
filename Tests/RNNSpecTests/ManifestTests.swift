import Foundation
import XCTest

/// The manifest stays acceptable for a dependency by version: SwiftPM refuses `unsafeFlags` in any package
/// that another package depends on by version (only root, path and branch dependencies may have them), so the
/// AVX2 + FMA kernels get their instructions from function attributes in C (RNNKernelsSIMD), not from flags.
final class ManifestTests: XCTestCase {
    func testPackageManifestHasNoUnsafeFlags() throws {
        let manifest = repositoryRoot.appendingPathComponent("Package.swift")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.contains("unsafeFlags") }.map { "Package.swift:\($0.offset + 1): \($0.element)" }
        XCTAssertEqual(lines, [], "unsafeFlags make the package unusable as a versioned dependency")
        // The kernels' target is still there, so this test is about the real manifest.
        XCTAssertTrue(text.contains("\"RNNKernelsSIMD\""), "Package.swift no longer declares RNNKernelsSIMD")
    }
}
