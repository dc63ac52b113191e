import Foundation
import RNNPlatform
import TestAssertions
import Testing

@testable import RNNSpec
@testable import RNNSpecBench

/// Children start with an empty signal mask, whatever thread starts them: Dispatch's and Swift
/// concurrency's threads block nearly every signal, and `posix_spawn` passes the caller's mask on (a
/// shell started with SIGCHLD blocked never returns from `wait`).
@Suite final class ChildSignalTests {
    static let unblocked = "SigBlk:\t0000000000000000"

    /// Runs `body` on a thread that blocks every signal it can.
    func onABlockingThread<T>(_ body: @escaping () throws -> T) throws -> T {
        nonisolated(unsafe) let work = body
        nonisolated(unsafe) var result: Result<T, any Error>? = nil
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            result = Result { try work() }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result!.get()
    }

    @Test func testTheBenchsChildrenStartWithNoSignalBlocked() throws {
        #if os(Linux)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rnnspec-childsignals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try onABlockingThread {
            try runChild("/bin/grep", ["SigBlk", "/proc/self/status"], scratch: scratch, measureMemory: false)
        }
        XCTAssertEqual(run.output, Self.unblocked + "\n")
        #else
        throw XCTSkip("reads /proc/self/status")
        #endif
    }

    @Test func testWorkersStartWithNoSignalBlocked() throws {
        #if os(Linux)
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        // A worker whose hello is its mask (grep, which leaves its mask as it finds it): the start
        // error quotes it.
        let command = WorkerCommand(executable: "/bin/grep", arguments: ["SigBlk", "/proc/self/status"])
        let message = try onABlockingThread { () -> String in
            do {
                _ = try p.run { $0.execution = .workers(command) }
                return "(no error)"
            } catch { return "\(error)" }
        }
        // The message shows the tab as \t.
        XCTAssertTrue(message.hasSuffix("not a JSON line: 'SigBlk:\\u{9}0000000000000000'"), message)
        #else
        throw XCTSkip("reads /proc/self/status")
        #endif
    }
}
