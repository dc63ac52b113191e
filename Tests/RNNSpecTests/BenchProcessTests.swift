import Foundation
import TestAssertions
import Testing

@testable import RNNSpecBench

/// The runner rows' peak memory counts the worker processes: the sum over a child and its own
/// children of each one's peak resident set.
@Suite final class BenchProcessTests {
    /// A child started in a directory runs there; without the memory poll it is waited for and timed the same.
    @Test func testAChildStartsInTheDirectoryGiven() throws {
        #if os(Linux)
        XCTAssertNotNil(spawnAddChdir, "glibc 2.29 and later have posix_spawn_file_actions_addchdir_np")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rnnspec-benchprocess-\(UUID().uuidString)")
        let inside = scratch.appendingPathComponent("in side")
        try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try runChild("/bin/pwd", [], scratch: scratch, directory: inside, measureMemory: false)
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(run.output, inside.resolvingSymlinksInPath().path + "\n")
        XCTAssertGreaterThan(run.seconds, 0)
        XCTAssertThrowsError(
            try runChild("/bin/pwd", [], scratch: scratch, directory: scratch.appendingPathComponent("missing")))
        #else
        throw XCTSkip("the bench measures processes on Linux")
        #endif
    }

    @Test func testPeakMemoryCountsTheChildsChildren() throws {
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
        // Together, the pages the four processes share (the sleep binary, the C library) count once: more
        // than the shell alone, less than the summed resident peaks, at least the largest one's.
        let together = try XCTUnwrap(family.peakGroupBytes, "smaps_rollup is polled on Linux")
        let shellAlone = try XCTUnwrap(alone.peakGroupBytes)
        XCTAssertGreaterThan(together, shellAlone)
        XCTAssertLessThan(together, family.peakBytes)
        XCTAssertGreaterThanOrEqual(together, alone.peakBytes / 2, "the shell's shared pages count in full")
        // Not the test process's own memory: a child spawned from a large process is measured by
        // itself (wait4's ru_maxrss would include the parent's resident set).
        let ballast = [UInt8](repeating: 1, count: 256 << 20)
        let big = try runChild("/bin/sh", ["-c", "/bin/sleep 0.3"], scratch: scratch)
        XCTAssertLessThan(big.peakBytes, 64 << 20, "a shell is a few MB, whatever its parent holds")
        XCTAssertEqual(ballast.last, 1)
        XCTAssertGreaterThan(processTreePeakBytes(getpid()), 0)
        // The fields as /proc writes them.
        XCTAssertEqual(procFields("Rss:     2048 kB\nPss:  1000 kB\nbad line\n"), ["Rss": 2048, "Pss": 1000])
        #endif
    }
}
