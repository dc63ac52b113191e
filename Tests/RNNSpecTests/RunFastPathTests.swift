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

    @Test func testAnyFlagOrOtherCommandGoesToTheParser() {
        for arguments in [
            ["run", "--jobs", "2"], ["run", "cases/", "-v"], ["run", "--", "-odd.yaml"], ["run", "-h"],
            ["run", "cases/", "--help"], ["regen", "cases/"], ["serve"], [], ["--version"],
        ] {
            XCTAssertNil(RNNSpecCommand.Run.fastPath(arguments), "\(arguments)")
        }
    }
}
