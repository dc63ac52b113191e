import Foundation
import TestAssertions
import Testing

@testable import RNNSpec

/// Every file below a directory, byte for byte: regular files by content, links by their text,
/// anything else by its kind. Links are not followed.
func snapshot(_ dir: URL) -> [String: String] {
    var out: [String: String] = [:]
    func visit(_ path: String, _ rel: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            out[rel + "/"] = "dir"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                visit(path + "/" + name, rel.isEmpty ? name : rel + "/" + name)
            }
        case S_IFLNK:
            out[rel] = "link -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
        case S_IFREG:
            out[rel] =
                (try? Data(contentsOf: URL(fileURLWithPath: path))).map { "file " + $0.base64EncodedString() }
                ?? "unreadable"
        default:
            out[rel] = "special \(st.st_mode & S_IFMT)"
        }
    }
    visit(dir.path, "")
    return out
}

/// Runs the built binary in `dir`, without CI, with an optional environment override.
func runBinary(_ args: [String], in dir: URL, environment: [String: String] = [:], executable: String? = nil) throws
    -> (status: Int32, stdout: String, stderr: String)
{
    var changes: [String: String?] = ["CI": nil]
    for (k, v) in environment { changes[k] = v }
    let r = try runRNNSpec(
        args, in: dir, environment: changes, executable: executable.map { URL(fileURLWithPath: $0) } ?? rnnspecBinary)
    return (r.status, r.stdout, r.stderr)
}

/// A project with two recorded cases and their goldens, inside a parent directory that also
/// holds unrelated files (`outside/`): what a careless flag must never touch.
final class Sandbox {
    let top: URL
    let project: TempProject
    var root: URL { project.root }

    init() throws {
        project = try TempProject()
        top = project.root
        try project.writeCase("a", simpleStepCase)
        try project.writeCase("sub/b", simpleStepCase.replacingOccurrences(of: "scale: 0.5", with: "scale: 0.25"))
        _ = try project.run(record: .all)
        let outside = top.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("SECRET outside line\nkernel: rnn.step\n".utf8).write(to: outside.appendingPathComponent("notes.yaml"))
        try Data("unrelated\n".utf8).write(to: top.appendingPathComponent("README.yaml"))
    }
}

/// The roots cannot be confused: a wrong flag or configuration line is a usage error (exit 2)
/// that names it, and nothing is written or deleted.
@Suite final class RootValidationTests {
    func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
    }

    @Test func testGoldenRootThatIsTheCasesRootIsRefusedAndNothingIsWritten() throws {
        try requireBinary()
        let s = try Sandbox()
        let before = snapshot(s.top)
        for args in [
            ["regen", "--golden-root", "cases"], ["regen", "--all", "--golden-root", "cases/"],
            ["run", "--record", "all", "--golden-root", "./cases"],
            ["prune", "--golden-root", "cases"], ["run", "--golden-root", "cases"],
        ] {
            let r = try runBinary(args, in: s.top)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stdout)\(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("rnnspec: error: the golden root "), r.stderr)
            XCTAssertTrue(
                r.stderr.contains(
                    "(--golden-root \(args.last!)) is the cases root cases/ (the default; set --cases-root or `cases:` in rnnspec.yaml); goldens would overwrite the case files"
                ), r.stderr)
            XCTAssertEqual(r.stdout, "")
        }
        // The same through a link: compared as real paths.
        try FileManager.default.createSymbolicLink(
            atPath: s.top.appendingPathComponent("g").path, withDestinationPath: "cases")
        let linked = try runBinary(["regen", "--golden-root", "g"], in: s.top)
        XCTAssertEqual(linked.status, 2)
        XCTAssertTrue(linked.stderr.contains("is the cases root cases/"), linked.stderr)
        try FileManager.default.removeItem(at: s.top.appendingPathComponent("g"))
        XCTAssertEqual(snapshot(s.top), before, "not a byte changed")
    }

    @Test func testConfigurationLineIsNamed() throws {
        try requireBinary()
        let s = try Sandbox()
        try Data("# suite\ngolden: cases\n".utf8).write(to: s.top.appendingPathComponent("rnnspec.yaml"))
        let before = snapshot(s.top)
        let r = try runBinary(["regen", "--all"], in: s.top)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(
            r.stderr,
            "rnnspec: error: the golden root cases/ (rnnspec.yaml:2:9: `golden: cases`) is the cases root cases/ (the default; set --cases-root or `cases:` in rnnspec.yaml); goldens would overwrite the case files: give the two different directories\n"
        )
        XCTAssertEqual(snapshot(s.top), before)
    }

    @Test func testMistypedCasesRootIsRefusedByEveryCommand() throws {
        try requireBinary()
        let s = try Sandbox()
        let before = snapshot(s.top)
        for command in [["prune"], ["prune", "--dry-run"], ["run"], ["regen"], ["check"]] {
            let r = try runBinary(command + ["--cases-root", "casse"], in: s.top)
            XCTAssertEqual(r.status, 2, "\(command)")
            XCTAssertEqual(
                r.stderr,
                "rnnspec: error: the cases root casse/ does not exist (--cases-root casse); run from the project's top directory, or give the directory that holds the case files\n"
            )
        }
        // A cases root that exists but holds no case: prune would delete every golden.
        try FileManager.default.createDirectory(
            at: s.top.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try runBinary(["prune", "--cases-root", "empty"], in: s.top)
        XCTAssertEqual(empty.status, 2)
        XCTAssertEqual(
            empty.stderr,
            "rnnspec: error: there are no case files under the cases root empty/, so every golden would be deleted; refusing (check --cases-root or `cases:` in rnnspec.yaml)\n"
        )
        try FileManager.default.removeItem(at: s.top.appendingPathComponent("empty"))
        XCTAssertEqual(snapshot(s.top), before)
    }

    @Test func testGoldenRootsThatHoldOrSitInTheCasesRootOrAreSpecialAreRefused() throws {
        try requireBinary()
        let s = try Sandbox()
        try FileManager.default.createDirectory(
            at: s.top.appendingPathComponent("repo/.git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: s.top.appendingPathComponent("home"), withIntermediateDirectories: true)
        let before = snapshot(s.top)
        let cases: [([String], String)] = [
            (
                ["prune", "--golden-root", "."],
                "the golden root \(s.top.standardizedFileURL.path)/ (--golden-root .) contains the cases root cases/"
            ),
            (
                ["regen", "--golden-root", "cases/sub"],
                "the golden root cases/sub/ (--golden-root cases/sub) is inside the cases root cases/"
            ),
            (["prune", "--golden-root", "/"], "the golden root / (--golden-root /) is the file system's root"),
            (["regen", "--golden-root", "/"], "is the file system's root"),
            (["prune", "--golden-root", "home"], "the golden root home/ (--golden-root home) is your home directory"),
            (["prune", "--golden-root", "repo"], "the golden root repo/ (--golden-root repo) holds a .git"),
            (
                ["prune", "--golden-root", "nowhere"],
                "the golden root nowhere/ does not exist (--golden-root nowhere); `rnnspec regen` (or `rnnspec run --record missing`) creates it"
            ),
            (
                ["run", "--golden-root", "no/where"],
                "the golden root no/where/ does not exist, nor its parent directory (--golden-root no/where)"
            ),
            (
                ["regen", "--golden-root", "no/where"],
                "the golden root no/where/ does not exist, nor its parent directory (--golden-root no/where)"
            ),
            (
                ["run", "--golden-root", "README.yaml"],
                "the golden root README.yaml/ is not a directory (--golden-root README.yaml)"
            ),
            (
                ["check", "--cases-root", "README.yaml"],
                "the cases root README.yaml/ is not a directory (--cases-root README.yaml)"
            ),
        ]
        for (args, expected) in cases {
            let r = try runBinary(args, in: s.top, environment: ["HOME": s.top.appendingPathComponent("home").path])
            XCTAssertEqual(r.status, 2, "\(args): \(r.stdout)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(snapshot(s.top), before)
    }

    @Test func testARecordingRunCreatesAMissingGoldenRootOnlyUnderAnExistingParent() throws {
        try requireBinary()
        let s = try Sandbox()
        let r = try runBinary(["regen", "--golden-root", "fresh"], in: s.top)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(
            r.stdout.hasSuffix("2 goldens written\n  wrote fresh/a.yaml\n  wrote fresh/sub/b.yaml\n"), r.stdout)
        XCTAssertEqual(
            try Data(contentsOf: s.top.appendingPathComponent("fresh/a.yaml")),
            try Data(contentsOf: s.project.goldenURL("a")))
        XCTAssertEqual(try runBinary(["run", "--golden-root", "fresh"], in: s.top).status, 0)
        // `new` may create the cases root (its parent exists) and needs no golden root.
        let n = try runBinary(
            ["new", "rnn.step", "first", "--cases-root", "more", "--golden-root", "nothing"], in: s.top)
        XCTAssertEqual(n.status, 0, n.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.top.appendingPathComponent("more/first.yaml").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.top.appendingPathComponent("nothing").path))
    }

    @Test func testValidateInTheLibrary() throws {
        let p = try TempProject()
        // Fresh project: no golden root yet.
        XCTAssertNoThrow(try p.project.validate(for: .record, home: nil))
        XCTAssertNoThrow(try p.project.validate(for: .check, home: nil))
        XCTAssertNoThrow(try p.project.validate(for: .run, home: nil), "every case is NEW")
        XCTAssertThrowsError(try p.project.validate(for: .prune, home: nil))
        try FileManager.default.createDirectory(
            at: p.root.appendingPathComponent("golden"), withIntermediateDirectories: true)
        XCTAssertNoThrow(try p.project.validate(for: .run, home: nil))
        XCTAssertThrowsError(try p.project.validate(for: .run, home: p.root.appendingPathComponent("golden").path)) {
            error in
            XCTAssertEqual(
                "\(error)",
                "error: the golden root golden/ (the default; set --golden-root or `golden:` in rnnspec.yaml) is your home directory; refusing to use it as the golden root"
            )
        }
        // The store itself refuses to write when handed confused roots (a library caller that
        // skipped validate).
        try p.writeCase("c", simpleStepCase)
        let confused = Project(
            casesRoot: p.root.appendingPathComponent("cases"), goldenRoot: p.root, workingDirectory: p.root)
        let before = snapshot(p.root)
        var options = RunOptions()
        options.record = .all
        let report = try Runner(project: confused, options: options).run(paths: [])
        XCTAssertEqual(report.results.first?.recording?.action, .refused)
        XCTAssertEqual(snapshot(p.root), before)
    }
}
