import Foundation
import XCTest

@testable import RNNSpec

/// `rnnspec run` starts its first worker before it parses its arguments (`WorkerPrestart`): the run's
/// pool takes that worker when the commands agree, and one that no run takes is stopped.
final class WorkerPrestartTests: XCTestCase {
    let command = WorkerCommand.rnnspec(rnnspecBinary.path, maxMemoryBytes: RunOptions.defaultMaxMemoryBytes)

    override func tearDown() {
        WorkerPrestart.discard()
        super.tearDown()
    }

    func report(_ project: TempProject, _ execution: ExecutionMode) throws -> RunReport {
        var options = RunOptions()
        options.execution = execution
        options.jobs = 1
        return try Runner(project: project.project, options: options).run(paths: [])
    }

    /// A run with the same worker command takes the started worker and runs its cases on it.
    func testARunTakesTheStartedWorkerWhenTheCommandsAgree() throws {
        let project = try TempProject()
        try project.writeCase("c", simpleStepCase)
        WorkerPrestart.start(command)
        let started = try XCTUnwrap(WorkerPrestart.waiting)
        XCTAssertTrue(started.isRunning)
        let pid = started.processID
        let results = try report(project, .workers(command)).results
        XCTAssertEqual(results.map(\.status), [.new])
        XCTAssertNil(WorkerPrestart.waiting, "the run did not take the started worker")
        // The run stopped its workers, the one it took among them, and reaps them: the process goes away
        // (a zombie would still answer kill(pid, 0)).
        XCTAssertFalse(started.isRunning)
        XCTAssertTrue(processIsGone(pid, within: 5), "worker \(pid) was not reaped")
    }

    /// Waits until no process (not even a zombie) has `pid`.
    func processIsGone(_ pid: pid_t, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if kill(pid, 0) == -1 && errno == ESRCH { return true }
            usleep(5_000)
        }
        return false
    }

    /// A worker's environment is this process's with the command's variables set: each replaces the
    /// variable of its name (not one whose name it begins), and everything else is passed on.
    func testAWorkersEnvironmentIsOursWithTheCommandsVariables() {
        setenv("RNNSPEC_TEST_VAR", "old", 1)
        setenv("RNNSPEC_TEST_VAR_LONGER", "kept", 1)
        defer {
            unsetenv("RNNSPEC_TEST_VAR")
            unsetenv("RNNSPEC_TEST_VAR_LONGER")
        }
        let pointers = spawnEnvironment(["RNNSPEC_TEST_VAR": "new", "RNNSPEC_TEST_ADDED": "a=b"])
        defer { pointers.forEach { free($0) } }
        let entries = pointers.map { String(cString: $0!) }
        XCTAssertEqual(entries.filter { $0.hasPrefix("RNNSPEC_TEST_VAR=") }, ["RNNSPEC_TEST_VAR=new"])
        XCTAssertTrue(entries.contains("RNNSPEC_TEST_VAR_LONGER=kept"))
        XCTAssertTrue(entries.contains("RNNSPEC_TEST_ADDED=a=b"))
        var expected = ProcessInfo.processInfo.environment
        expected["RNNSPEC_TEST_VAR"] = "new"
        expected["RNNSPEC_TEST_ADDED"] = "a=b"
        XCTAssertEqual(entries.sorted(), expected.map { "\($0.key)=\($0.value)" }.sorted())
    }

    /// A run with another command (here another memory cap) starts its own worker and stops the started
    /// one; `discard` stops one that no run took.
    func testAStartedWorkerWithAnotherCommandIsStopped() throws {
        let project = try TempProject()
        try project.writeCase("c", simpleStepCase)
        WorkerPrestart.start(command)
        let started = try XCTUnwrap(WorkerPrestart.waiting)
        let pid = started.processID
        XCTAssertEqual(kill(pid, 0), 0, "the started worker is not running")
        let other = WorkerCommand.rnnspec(rnnspecBinary.path, maxMemoryBytes: RunOptions.defaultMaxMemoryBytes / 2)
        XCTAssertEqual(try report(project, .workers(other)).results.map(\.status), [.new])
        XCTAssertNil(WorkerPrestart.waiting)
        XCTAssertFalse(started.isRunning)
        XCTAssertTrue(processIsGone(pid, within: 5), "the started worker still runs")
        // Started and never taken.
        WorkerPrestart.start(command)
        let unused = try XCTUnwrap(WorkerPrestart.waiting)
        let unusedPID = unused.processID
        WorkerPrestart.discard()
        XCTAssertNil(WorkerPrestart.waiting)
        XCTAssertFalse(unused.isRunning)
        XCTAssertTrue(processIsGone(unusedPID, within: 5), "the discarded worker still runs")
    }

    /// A started worker that cannot start (the program is not there) leaves nothing waiting, and the
    /// run's own start reports the error as before.
    func testAWorkerThatCannotStartLeavesNothingWaiting() throws {
        let project = try TempProject()
        try project.writeCase("c", simpleStepCase)
        let missing = WorkerCommand.rnnspec("/nonexistent/rnnspec", maxMemoryBytes: 1 << 30)
        WorkerPrestart.start(missing)
        XCTAssertNil(WorkerPrestart.waiting)
        XCTAssertThrowsError(try report(project, .workers(missing))) { error in
            XCTAssertTrue("\(error)".contains("cannot start a worker process"), "\(error)")
        }
    }
}
