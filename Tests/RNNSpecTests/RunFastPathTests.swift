import Foundation
import TestAssertions
import Testing

@testable import RNNSpecCLI

/// `rnnspec run PATH...` runs without the argument parser (`Run.fastPath`): the request it builds is
/// the one the parser builds from the same arguments, and any flag sends the command line to the parser.
@Suite final class RunFastPathTests {
    /// Every field of the two requests, through `dump` (options, limits, worker command, display).
    func text(_ request: RunRequest) -> String {
        var out = ""
        dump(request, to: &out)
        return out
    }

    @Test func testTheRequestIsTheParsersForPathsAlone() throws {
        for paths in [[], ["cases/"], ["cases/a.yaml", "theory", "b c.yml"], ["help"], ["run"], [""]] {
            let parsed = try RNNSpecCommand.Run.parse(paths).request
            XCTAssertEqual(text(RNNSpecCommand.Run.defaultRequest(paths: paths)), text(parsed), "\(paths)")
            XCTAssertNotNil(RNNSpecCommand.Run.fastPath(["run"] + paths), "\(paths)")
        }
        // The dump would show a difference: a flag changes it.
        let flagged = try RNNSpecCommand.Run.parse(["--jobs", "1", "cases/"]).request
        XCTAssertNotEqual(text(RNNSpecCommand.Run.defaultRequest(paths: ["cases/"])), text(flagged))
    }

    /// `--jobs N` (or `-j N`) once, with N in the parser's range, is taken by the fast path: its
    /// request is the parser's, field for field.
    @Test func testOneJobsFlagGivesTheParsersRequest() throws {
        for arguments in [
            ["--jobs", "2", "cases/"], ["cases/", "-j", "1"], ["a.yaml", "--jobs", "256", "b"], ["-j", "7"],
        ] {
            let parsed = try RNNSpecCommand.Run.parse(arguments).request
            let jobs = Int(arguments[arguments.firstIndex { $0.hasPrefix("-") }! + 1])!
            var fast = RNNSpecCommand.Run.defaultRequest(
                paths: arguments.filter { !$0.hasPrefix("-") && Int($0) == nil })
            fast.options.jobs = jobs
            XCTAssertEqual(text(fast), text(parsed), "\(arguments)")
            XCTAssertNotNil(RNNSpecCommand.Run.fastPath(["run"] + arguments), "\(arguments)")
        }
    }

    /// `--cases-root DIR` and `--golden-root DIR`, once each, beside paths and `--jobs`: the fast path's
    /// roots and request are the parser's.
    @Test func testRootFlagsGiveTheParsersRootsAndRequest() throws {
        for arguments in [
            ["--cases-root", "c", "--golden-root", "g"], ["--golden-root", "/tmp/g x", "a.yaml", "-j", "2"],
            ["x.yaml", "--cases-root", "../cases"], ["--jobs", "2", "--cases-root", "s/cases", "--golden-root", "s/g"],
        ] {
            let parsed = try RNNSpecCommand.Run.parse(arguments)
            let (request, roots) = try XCTUnwrap(RNNSpecCommand.Run.fastArguments(["run"] + arguments), "\(arguments)")
            XCTAssertEqual(text(request), text(parsed.request), "\(arguments)")
            XCTAssertEqual(roots.casesRoot, parsed.project.casesRoot, "\(arguments)")
            XCTAssertEqual(roots.goldenRoot, parsed.project.goldenRoot, "\(arguments)")
        }
    }

    @Test func testAnyFlagOrOtherCommandGoesToTheParser() {
        for arguments in [
            ["run", "cases/", "-v"], ["run", "--jobs", "0"], ["run", "--jobs", "257"], ["run", "--jobs"],
            ["run", "-j", "2", "-j", "2"], ["run", "--jobs=2"], ["run", "-j2"], ["run", "--jobs", "two"],
            ["run", "--jobs", "-1"], ["run", "--jobs", "2", "--tag", "x"], ["run", "--", "-odd.yaml"], ["run", "-h"],
            ["run", "cases/", "--help"], ["regen", "cases/"], ["serve"], [], ["--version"],
            ["run", "--cases-root"], ["run", "--cases-root", "a", "--cases-root", "b"], ["run", "--cases-root=a"],
            ["run", "--golden-root", "-g"], ["run", "--golden-root", ""],
            ["run", "--golden-root", "g", "--golden-root", "g"],
        ] {
            XCTAssertNil(RNNSpecCommand.Run.fastPath(arguments), "\(arguments)")
        }
    }
}
