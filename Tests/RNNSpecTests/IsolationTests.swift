import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Cases run in worker processes: a case that traps, exits, hangs, exhausts memory or writes garbage
/// is one result, and the run goes on with every report written.
@Suite final class IsolationTests {
    func faultProject() throws -> TempProject {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let p = try TempProject()
        for kernel in ["trap", "exit", "noise"] {
            try p.writeCase("faults/\(kernel)", "kernel: fault.\(kernel)\ninputs: {x: [1.0]}\n")
        }
        try p.writeCase("faults/allocate", "kernel: fault.allocate\nparams: {mib: 2000}\ninputs: {x: [1.0]}\n")
        try p.writeCase("faults/hang", "kernel: fault.hang\ntimeout: 1\ninputs: {x: [1.0]}\n")
        try p.writeCase("fine/a", simpleStepCase)
        try p.writeCase("fine/b", simpleStepCase)
        return p
    }

    @Test func testEveryFaultIsOneResultAndTheRunGoesOn() throws {
        let p = try faultProject()
        XCTAssertEqual(try runRNNSpec(["regen", "cases/fine"], in: p.root).status, 0)
        let start = Date()
        let r = try runRNNSpec(
            [
                "run", "--jobs", "2", "--max-memory", "512M", "--format", "json", "--output", "r.json", "--junit",
                "r.xml",
            ],
            in: p.root, environment: ["RNNSPEC_FAULT_KERNELS": "1"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "a hung case is stopped at its timeout")
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: p.root.appendingPathComponent("r.json")))
                as? [String: Any])
        var status: [String: String] = [:]
        var message: [String: String] = [:]
        for case let c as [String: Any] in json["cases"] as? [Any] ?? [] {
            status[c["id"] as! String] = c["status"] as? String
            message[c["id"] as! String] = c["message"] as? String
        }
        XCTAssertEqual(
            status,
            [
                "faults/trap": "UNRESOLVED", "faults/exit": "UNRESOLVED", "faults/noise": "UNRESOLVED",
                "faults/allocate": "UNRESOLVED", "faults/hang": "TIMEOUT", "fine/a": "PASS", "fine/b": "PASS",
            ])
        XCTAssertTrue(
            message["faults/trap"]!.contains(
                "the case crashed its worker process: the worker was killed by signal 4 (SIGILL, a Swift runtime trap)\n"
            ), message["faults/trap"]!)
        XCTAssertTrue(
            message["faults/trap"]!.contains(
                "the worker's last standard-error lines:\n  | RNNSpec/FaultKernels.swift:"), message["faults/trap"]!)
        XCTAssertTrue(
            message["faults/trap"]!.contains("Fatal error: fault.trap: a deliberate trap"), message["faults/trap"]!)
        XCTAssertFalse(message["faults/trap"]!.contains("0x0000"), "the stack trace is left out")
        XCTAssertTrue(
            message["faults/exit"]!.contains("the worker exited with status 3 before answering"),
            message["faults/exit"]!)
        XCTAssertTrue(
            message["faults/noise"]!.contains(
                "the worker's reply does not follow the worker protocol: not a JSON line: 'this is not a reply'"),
            message["faults/noise"]!)
        XCTAssertTrue(
            message["faults/allocate"]!.contains(
                "the case ran out of memory: its worker process hit the cap of 512 MiB (--max-memory)"),
            message["faults/allocate"]!)
        XCTAssertTrue(
            message["faults/hang"]!.contains(
                "cases/faults/hang.yaml:2:1: error: the case did not finish within 1.0 s (its timeout:)"),
            message["faults/hang"]!)
        // The text report (the summary) and the JUnit report are written too.
        XCTAssertTrue(r.stdout.contains("Results: 2 PASS, 4 UNRESOLVED, 1 TIMEOUT in "), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("\n2 passed, 5 failed\n"), r.stdout)
        let xml = try Data(contentsOf: p.root.appendingPathComponent("r.xml"))
        let parser = XMLParserCount(xml)
        XCTAssertTrue(parser.wellFormed)
        XCTAssertEqual(parser.testcases, 7)
        XCTAssertEqual(parser.failures, 1, "TIMEOUT is a failure")
        XCTAssertEqual(parser.errors, 4, "UNRESOLVED is an error")
    }

    @Test func testTimeoutFlagStopsARealKernelThatRunsTooLong() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let p = try TempProject()
        // A full (element by element) gradcheck of a 200-step BPTT over a 200×200 W_hh: 80,000 elements × 2
        // forward-backward passes, minutes. (The default fast mode takes a few passes: on a fast machine it
        // finished within the 2 s.)
        try p.writeCase(
            "slow",
            """
            kernel: rnn.bptt
            inputs:
              x: {random: normal, shape: [200, 4], seed: 1}
              targets: [\((0..<200).map(String.init).joined(separator: ", "))]
              W_xh: {random: normal, shape: [200, 4], seed: 2, std: 0.1}
              W_hh: {random: normal, shape: [200, 200], seed: 3, std: 0.05}
              W_hy: {random: normal, shape: [200, 200], seed: 4, std: 0.1}
            gradcheck: {wrt: [W_hh], mode: full}

            """)
        try p.writeCase("quick", simpleStepCase)
        let start = Date()
        let r = try runRNNSpec(["run", "--timeout", "2", "-v"], in: p.root)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("NEW: quick ("), r.stdout)
        XCTAssertTrue(r.stdout.contains("TIMEOUT: slow ("), r.stdout)
        XCTAssertTrue(
            r.stdout.contains("error: the case did not finish within 2.0 s (--timeout); its worker was stopped"),
            r.stdout)
    }

    @Test func testWorkersThatCannotStartAreAUsageError() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        func failure(_ command: WorkerCommand) -> String {
            do {
                _ = try p.run { $0.execution = .workers(command) }
                return "(no error)"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(
            failure(WorkerCommand(executable: "/nonexistent/worker", arguments: [])),
            "error: cannot start a worker process: cannot start `/nonexistent/worker`: No such file or directory")
        XCTAssertEqual(
            failure(WorkerCommand(executable: "/bin/echo", arguments: ["hello"])),
            "error: cannot start a worker process: `/bin/echo hello` did not start as a worker: not a JSON line: 'hello'"
        )
        XCTAssertEqual(
            failure(WorkerCommand(executable: "/bin/sh", arguments: ["-c", "echo '{\"protocol\":7}'"])),
            "error: cannot start a worker process: `/bin/sh -c echo '{\"protocol\":7}'` did not start as a worker: speaks protocol 7; this rnnspec speaks 1"
        )
        XCTAssertEqual(
            failure(WorkerCommand(executable: "/bin/sh", arguments: ["-c", "echo oops >&2; exit 4"])),
            "error: cannot start a worker process: `/bin/sh -c echo oops >&2; exit 4` did not start: the worker exited with status 4 before answering; its last standard-error lines: oops"
        )
    }

    /// The first case loads while the first worker starts; when the worker cannot start, no result is
    /// reported, not even the first case's load error.
    @Test func testNoResultIsReportedWhenTheWorkerCannotStart() throws {
        let p = try TempProject()
        try p.writeCase("a0", "kernel: [not, a, name\n")
        try p.writeCase("a1", simpleStepCase)
        let reported = OutputBox()
        var options = RunOptions()
        options.execution = .workers(WorkerCommand(executable: "/bin/sh", arguments: ["-c", "sleep 0.2; exit 3"]))
        XCTAssertThrowsError(
            try Runner(project: p.project, options: options).run(
                paths: [], onResult: { r, _, _ in reported.append(r.id) })
        ) { error in
            XCTAssertTrue("\(error)".hasPrefix("error: cannot start a worker process: "), "\(error)")
        }
        XCTAssertEqual(reported.text, "")
        // With a worker that starts, the same run reports both.
        options.execution = .workers(.rnnspec(rnnspecBinary.path, maxMemoryBytes: RunOptions.defaultMaxMemoryBytes))
        let report = try Runner(project: p.project, options: options).run(paths: [])
        XCTAssertEqual(report.results.map(\.status), [.unresolved, .new])
    }

    /// A worker that answers with the wrong shape, dtype, id or size is a located UNRESOLVED result.
    @Test func testRepliesThatBreakTheProtocolAreReportedNotTrusted() throws {
        let p = try TempProject()
        try p.writeCase("a", simpleStepCase)
        func reply(_ text: String) throws -> String {
            let script = "echo '{\"protocol\":1,\"worker\":\"test\"}'; read line; echo '\(text)'; sleep 5"
            let report = try p.run {
                $0.execution = .workers(WorkerCommand(executable: "/bin/sh", arguments: ["-c", script])); $0.jobs = 1
            }
            let r = try XCTUnwrap(report.results.first)
            return "\(r.status.rawValue): " + (r.error.map { "\($0.message)" } ?? r.reason ?? "")
        }
        let h = #""name":"h","dtype":"float64""#
        XCTAssertEqual(
            try reply(#"{"protocol":1,"id":"b","outputs":[]}"#),
            "UNRESOLVED: the worker's reply does not follow the worker protocol: a reply for 'b' where 'a' was asked")
        XCTAssertEqual(
            try reply(#"{"protocol":1,"id":"a","outputs":[{\#(h),"shape":[2],"data":"AAAA"}]}"#),
            "UNRESOLVED: the worker's reply does not follow the worker protocol: output 'h': shape [2] in float64 needs 16 bytes, the data has 3"
        )
        XCTAssertEqual(
            try reply(#"{"protocol":1,"id":"a","outputs":[{\#(h),"shape":[4611686018427387904,4],"data":""}]}"#),
            "UNRESOLVED: the worker's reply does not follow the worker protocol: output 'h': shape [4611686018427387904, 4] overflows"
        )
        XCTAssertEqual(
            try reply(
                #"{"protocol":1,"id":"a","outputs":[{"name":"q","dtype":"float64","shape":[],"data":"AAAAAAAA8D8="}]}"#),
            "UNRESOLVED: kernel rnn.step produced an undeclared output 'q'")
        XCTAssertEqual(
            try reply(#"{"protocol":1,"id":"a","error":{"message":"no such thing","at":"input:h_prev"}}"#),
            "UNRESOLVED: no such thing")
        XCTAssertEqual(
            try reply(#"{"protocol":1,"id":"a","unsupported":"rnn.step is not implemented here"}"#),
            "UNSUPPORTED: rnn.step is not implemented here")
    }
}

/// Counts a JUnit file's testcases, failures and errors with an XML parser.
final class XMLParserCount: NSObject, XMLParserDelegate {
    var testcases = 0, failures = 0, errors = 0
    var wellFormed = false

    init(_ data: Data) {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        wellFormed = parser.parse()
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch name {
        case "testcase": testcases += 1
        case "failure": failures += 1
        case "error": errors += 1
        default: break
        }
    }
}
