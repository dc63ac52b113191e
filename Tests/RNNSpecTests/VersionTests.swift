import Foundation
import RNNSpec
import TestAssertions
import Testing

/// One version, written once: `RNNSpecRelease.version` is the newest CHANGELOG heading and what
/// `rnnspec --version` prints.
@Suite final class VersionTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `## X.Y.Z` headings of CHANGELOG.md, newest first, each with the text up to the next heading.
    func changelogReleases() throws -> [(version: String, body: String)] {
        let text = try String(contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
        var releases: [(String, String)] = []
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("## ") {
                releases.append((String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces), ""))
            } else if !releases.isEmpty {
                releases[releases.count - 1].1 += line + "\n"
            }
        }
        return releases
    }

    @Test func testNewestChangelogHeadingIsThePackageVersion() throws {
        let newest = try XCTUnwrap(changelogReleases().first)
        XCTAssertEqual(newest.version, RNNSpecRelease.version)
        let parts = RNNSpecRelease.version.split(separator: ".")
        XCTAssertEqual(parts.count, 3, "MAJOR.MINOR.PATCH")
        XCTAssertTrue(parts.allSatisfy { Int($0) != nil }, RNNSpecRelease.version)
        XCTAssertTrue(newest.body.contains("Case format: version \(RNNSpecRelease.caseFormat)."), newest.body)
        XCTAssertTrue(newest.body.contains("Golden format: version \(Golden.formatVersion)."), newest.body)
        XCTAssertTrue(newest.body.contains("Worker protocol: version \(WorkerProtocol.version)."), newest.body)
    }

    /// The case format's page (docs/case-format.md, which the README links) is titled with the version.
    @Test func testCaseFormatPageNamesTheCaseFormatVersion() throws {
        let page = try String(contentsOf: root.appendingPathComponent("docs/case-format.md"), encoding: .utf8)
        XCTAssertTrue(page.hasPrefix("# Case format (version \(RNNSpecRelease.caseFormat))\n"))
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("(docs/case-format.md)"))
    }

    @Test func testVersionFlagPrintsThePackageVersion() throws {
        guard FileManager.default.isExecutableFile(atPath: rnnspecBinary.path) else {
            throw XCTSkip("no rnnspec binary")
        }
        let r = try runRNNSpec(["--version"], in: FileManager.default.temporaryDirectory)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, RNNSpecRelease.version + "\n")
    }
}
