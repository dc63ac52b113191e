import Foundation
import XCTest

@testable import RNNSpecBench

/// The runner rows' peak memory counts the worker processes: the sum over a child and its own
/// children of each one's peak resident set.
final class BenchProcessTests: XCTestCase {
    func testPeakMemoryCountsTheChildsChildren() throws {
        #if os(Linux)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rnnspec-benchprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // One shell alone, then a shell with three children alive for a while.
        let alone = try runChild("/bin/sh", ["-c", "/bin/sleep 0.3"], scratch: scratch)
        let family = try runChild(
            "/bin/sh", ["-c", "/bin/sleep 0.3 & /bin/sleep 0.3 & /bin/sleep 0.3 & wait"], scratch: scratch)
        XCTAssertEqual(alone.status, 0)
        XCTAssertEqual(family.status, 0)
        XCTAssertGreaterThan(family.peakBytes, alone.peakBytes, "three sleeping children count on top of the shell")
        XCTAssertGreaterThan(processTreePeakBytes(getpid()), 0)
        #endif
    }
}
