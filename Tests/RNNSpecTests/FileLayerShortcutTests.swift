import Foundation
import RNNPlatform
import TestAssertions
import Testing

@testable import RNNSpec

/// The file layer's shortcuts for a run (one open of a case file's whole path, directories kept
/// open, one read of the size `fstat` gave, the cases root's real path resolved once, a golden's
/// shown path made from strings) give what the long way gives.
@Suite struct FileLayerShortcutTests {
    /// A file read with a size hint that is wrong (the file changed after `fstat`) is still read
    /// whole, and the byte limit still holds.
    @Test func testAWrongSizeHintStillReadsTheWholeFile() throws {
        let p = try TempProject()
        let bytes = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let url = p.root.appendingPathComponent("cases/f.bin")
        try bytes.write(to: url)
        for hint in [-1, 0, 100, 4999, 5000, 5001, 10_000] {
            let fd = open(url.path, O_RDONLY)
            XCTAssertGreaterThanOrEqual(fd, 0)
            defer { close(fd) }
            let read = try ConfinedDirectory.readAll(fd: fd, maxBytes: 1 << 20, shown: "f", expectedSize: hint)
            XCTAssertEqual(read, bytes, "size hint \(hint)")
        }
        for hint in [100, 5000] {
            let fd = open(url.path, O_RDONLY)
            defer { close(fd) }
            XCTAssertThrowsError(
                try ConfinedDirectory.readAll(fd: fd, maxBytes: 4000, shown: "f", expectedSize: hint), "hint \(hint)"
            ) {
                XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .tooLarge)
            }
        }
        // An empty file, read whole with its own size.
        try Data().write(to: url)
        let fd = open(url.path, O_RDONLY)
        defer { close(fd) }
        XCTAssertEqual(try ConfinedDirectory.readAll(fd: fd, maxBytes: 10, shown: "f", expectedSize: 0), Data())
    }

    /// Case files read through one open of their path give what the walk gave: through a link
    /// that stays inside, the file; through one that leaves, or of the wrong kind, the walk's
    /// error.
    @Test func testCaseFilesThroughTheShortcutAndTheWalkAgree() throws {
        let p = try TempProject()
        try p.writeCase("sub/a", "kernel: rnn.step\n")
        let cases = p.root.appendingPathComponent("cases")
        let outside = p.root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("SECRET".utf8).write(to: outside.appendingPathComponent("x.yaml"))
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: cases.appendingPathComponent("in").path, withDestinationPath: "sub")
        try fm.createSymbolicLink(atPath: cases.appendingPathComponent("out").path, withDestinationPath: outside.path)
        try fm.createSymbolicLink(
            atPath: cases.appendingPathComponent("x.yaml").path,
            withDestinationPath: outside.appendingPathComponent("x.yaml").path)
        try fm.createSymbolicLink(
            atPath: cases.appendingPathComponent("gone.yaml").path, withDestinationPath: "nowhere")
        try fm.createDirectory(at: cases.appendingPathComponent("dir.yaml"), withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(cases.appendingPathComponent("fifo.yaml").path, 0o600), 0)

        let project = p.project
        let dir = project.casesDirectory
        XCTAssertNotNil(dir.realPaths)
        XCTAssertEqual(try dir.read("sub/a.yaml"), Data("kernel: rnn.step\n".utf8))
        XCTAssertEqual(try dir.read("in/a.yaml"), Data("kernel: rnn.step\n".utf8))
        XCTAssertNil(try dir.read("missing.yaml"))
        XCTAssertNil(try dir.read("nodir/missing.yaml"))
        for (path, kind) in [
            ("out/x.yaml", ConfinedDirectory.Failure.Kind.outside), ("x.yaml", .outside),
            ("gone.yaml", .symbolicLink), ("dir.yaml", .isDirectory), ("fifo.yaml", .notRegular),
        ] {
            XCTAssertThrowsError(try dir.read(path), path) {
                XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, kind, path)
            }
        }
    }

    /// Goldens are read by the walk: the golden root may be reached through a link, but a link below it
    /// (even one that stays inside) is refused, and a file read in one `read` is the whole file.
    @Test func testGoldensAreWalkedAndLinksBelowTheRootRefused() throws {
        let p = try TempProject()
        let fm = FileManager.default
        let real = p.root.appendingPathComponent("real-golden")
        try fm.createDirectory(at: real.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("g".utf8).write(to: real.appendingPathComponent("sub/a.yaml"))
        try Data("h".utf8).write(to: real.appendingPathComponent("top.yaml"))
        try fm.createSymbolicLink(atPath: real.appendingPathComponent("in").path, withDestinationPath: "sub")
        try fm.createSymbolicLink(atPath: real.appendingPathComponent("b.yaml").path, withDestinationPath: "top.yaml")
        // The root itself through a link: the user's choice.
        try fm.createSymbolicLink(atPath: p.root.appendingPathComponent("golden").path, withDestinationPath: real.path)
        let dir = p.project.goldenStore.directory
        XCTAssertEqual(try dir.read("sub/a.yaml"), Data("g".utf8))
        XCTAssertEqual(try dir.read("top.yaml"), Data("h".utf8))
        XCTAssertNil(try dir.read("sub/none.yaml"))
        for path in ["in/a.yaml", "b.yaml"] {
            XCTAssertThrowsError(try dir.read(path), path) {
                XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .symbolicLink, path)
            }
        }
    }

    /// Paths are compared on their bytes: a name spelled with a combining accent (NFD) and the same name
    /// precomposed (NFC) are two directories on Linux, though Swift's `==` takes them as equal. A link
    /// to the other spelling is refused on both sides.
    @Test func testCanonicallyEquivalentSpellingsAreDifferentDirectories() throws {
        let p = try TempProject()
        let fm = FileManager.default
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        // Golden side: `golden/café` (NFC) is a link to the real directory `golden/café` (NFD).
        let golden = p.root.appendingPathComponent("golden")
        try fm.createDirectory(atPath: golden.path + "/" + nfd, withIntermediateDirectories: true)
        try Data("g".utf8).write(to: URL(fileURLWithPath: golden.path + "/" + nfd + "/a.yaml"))
        try fm.createSymbolicLink(atPath: golden.path + "/" + nfc, withDestinationPath: nfd)
        let store = p.project.goldenStore
        XCTAssertEqual(try store.directory.read(nfd + "/a.yaml"), Data("g".utf8))
        XCTAssertThrowsError(try store.directory.read(nfc + "/a.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .symbolicLink)
        }
        // Cases side: the root `café-cases` (NFC) and, outside it, its NFD twin, reached through a link.
        let root = p.root.appendingPathComponent(nfc + "-cases")
        let twin = p.root.appendingPathComponent(nfd + "-cases")
        try fm.createDirectory(at: root, withIntermediateDirectories: true)
        try fm.createDirectory(at: twin, withIntermediateDirectories: true)
        try Data("SECRET".utf8).write(to: twin.appendingPathComponent("x.yaml"))
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("out").path, withDestinationPath: twin.path)
        let project = try Project.locate(casesRoot: root.path, workingDirectory: p.root.path)
        XCTAssertThrowsError(try project.casesDirectory.read("out/x.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .outside)
        }
    }

    /// The cases root's real path is resolved once for a project: when the root's link is moved
    /// elsewhere during a run, a file there is refused rather than taken as inside the root; a new
    /// project (the next run) resolves the link again. With kept directories (a run's), a directory
    /// already opened is still read where it was, and one first opened after the move, the root itself
    /// included, is refused as outside.
    @Test func testTheCasesRootIsResolvedOncePerProject() throws {
        let p = try TempProject()
        let fm = FileManager.default
        for name in ["a", "b"] {
            let d = p.root.appendingPathComponent(name)
            try fm.createDirectory(at: d.appendingPathComponent("sub"), withIntermediateDirectories: true)
            try Data("kernel: \(name)\n".utf8).write(to: d.appendingPathComponent("c.yaml"))
            try Data("kernel: \(name) sub\n".utf8).write(to: d.appendingPathComponent("sub/d.yaml"))
        }
        let link = p.root.appendingPathComponent("cases-link")
        func point(to name: String) throws {
            try? fm.removeItem(at: link)
            try fm.createSymbolicLink(atPath: link.path, withDestinationPath: p.root.appendingPathComponent(name).path)
        }
        func project() throws -> Project { try Project.locate(casesRoot: link.path, workingDirectory: p.root.path) }
        let file = link.appendingPathComponent("c.yaml")
        let inSub = link.appendingPathComponent("sub/d.yaml")
        func refused(_ project: Project, _ url: URL) {
            XCTAssertThrowsError(try project.readCaseFile(url), url.path) {
                XCTAssertTrue("\($0)".contains("outside the cases root"), "\($0)")
            }
        }

        try point(to: "a")
        let first = try project()
        XCTAssertEqual(try first.readCaseFile(file), Data("kernel: a\n".utf8))
        try point(to: "b")
        refused(first, file)
        refused(first, inSub)
        XCTAssertEqual(try project().readCaseFile(file), Data("kernel: b\n".utf8))

        try point(to: "a")
        var kept = try project()
        kept.directories = DirectoryDescriptors()
        XCTAssertEqual(try kept.readCaseFile(inSub), Data("kernel: a sub\n".utf8))
        try point(to: "b")
        XCTAssertEqual(try kept.readCaseFile(inSub), Data("kernel: a sub\n".utf8))
        refused(kept, file)
        XCTAssertEqual(kept.directories?.count, 1)
    }

    /// A golden directory is walked once in a run and its descriptor kept: the next golden there is
    /// one `openat`. A directory swapped for a link during the run is not followed (the kept one is
    /// read, where it was moved); past the cache's capacity, reads walk and give the same bytes; a
    /// golden missing from a kept directory is missing; a link at the end is still refused.
    @Test func testKeptGoldenDirectoriesAreNeverReplacedByALink() throws {
        let p = try TempProject()
        let fm = FileManager.default
        let golden = p.root.appendingPathComponent("golden")
        let outside = p.root.appendingPathComponent("outside")
        try fm.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("SECRET".utf8).write(to: outside.appendingPathComponent("a.yaml"))
        let count = DirectoryDescriptors.capacity + 4
        for k in 0..<count {
            let d = golden.appendingPathComponent("d\(k)")
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
            try Data("g\(k)".utf8).write(to: d.appendingPathComponent("a.yaml"))
        }
        try fm.createSymbolicLink(
            atPath: golden.appendingPathComponent("d0/link.yaml").path,
            withDestinationPath: outside.appendingPathComponent("a.yaml").path)
        var store = p.project.goldenStore
        let kept = DirectoryDescriptors()
        store.directories = kept
        let dir = store.directory
        for k in 0..<count { XCTAssertEqual(try dir.read("d\(k)/a.yaml"), Data("g\(k)".utf8), "d\(k)") }
        XCTAssertEqual(kept.count, DirectoryDescriptors.capacity)
        XCTAssertGreaterThan(DirectoryDescriptors.capacity, 0)
        for k in 0..<count { XCTAssertEqual(try dir.read("d\(k)/a.yaml"), Data("g\(k)".utf8), "d\(k) again") }
        XCTAssertNil(try dir.read("d1/none.yaml"))
        // A path that is not plain is refused as the walk refuses it.
        for path in ["d1/../d2/a.yaml", "./d1/a.yaml", "d1//a.yaml", "d1/a.yaml/", "/d1/a.yaml", "d1/.", "..", ""] {
            XCTAssertThrowsError(try dir.read(path), path) {
                XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .outside, path)
            }
        }
        XCTAssertThrowsError(try dir.read("d0/link.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .symbolicLink)
        }
        // d0 is moved away and a link to outside/ put in its place.
        try fm.moveItem(at: golden.appendingPathComponent("d0"), to: p.root.appendingPathComponent("moved"))
        try fm.createSymbolicLink(atPath: golden.appendingPathComponent("d0").path, withDestinationPath: outside.path)
        XCTAssertEqual(try dir.read("d0/a.yaml"), Data("g0".utf8))
        // A store without kept directories (another run) walks, and refuses the link.
        XCTAssertThrowsError(try p.project.goldenStore.directory.read("d0/a.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .symbolicLink)
        }
        // The same for a directory the run had not kept yet (past the capacity).
        let last = "d\(count - 1)"
        try fm.removeItem(at: golden.appendingPathComponent(last))
        try fm.createSymbolicLink(atPath: golden.appendingPathComponent(last).path, withDestinationPath: outside.path)
        XCTAssertThrowsError(try dir.read(last + "/a.yaml")) {
            XCTAssertEqual(($0 as? ConfinedDirectory.Failure)?.kind, .symbolicLink)
        }
    }

    /// A golden's path as messages show it, made from strings, is what `display(url(for:))` gives,
    /// wherever the golden root is from the working directory and whatever the id holds.
    @Test func testGoldenShownPathsAreWhatTheURLsShow() throws {
        let p = try TempProject()
        let ids = ["a", "sub/b", "with space/c", "per%25cent", "q?mark", "hash#x", "ünï/cödé", "semi;colon", "-dash"]
        let places: [(golden: String, cwd: String)] = [
            ("golden", p.root.path), (p.root.path, p.root.path), ("../outside-golden", p.root.path + "/cases"),
            (p.root.path + "/g", p.root.path + "/g/deeper"), ("g/../h", p.root.path),
        ]
        for place in places {
            let project = try Project.locate(goldenRoot: place.golden, workingDirectory: place.cwd)
            let store = project.goldenStore
            for id in ids {
                XCTAssertEqual(
                    store.displayPath(for: id), store.display(store.url(for: id)), "\(place) \(id)")
            }
        }
    }

    /// A case file whose name begins with a combining mark (which joins the slash before it into one
    /// `Character`) keeps the mark in its id, its path and its golden's name; a directory argument that is
    /// the cases root's NFD twin is outside the root, not the root.
    @Test func testNamesBeginningWithACombiningMarkKeepIt() throws {
        let p = try TempProject()
        let name = "\u{301}x"
        try p.writeCase(name, simpleStepCase)
        let report = try p.run()
        XCTAssertEqual(report.results.map(\.id), [name])
        XCTAssertEqual(report.results.first?.path, "cases/\(name).yaml")
        XCTAssertEqual(report.results.first?.status, .new)
        _ = try p.run(record: .all)
        XCTAssertNotNil(p.golden(name))
        XCTAssertEqual(try p.run().results.first?.status, .pass)

        let fm = FileManager.default
        let nfc = p.root.appendingPathComponent("caf\u{E9}"), nfd = p.root.appendingPathComponent("cafe\u{301}")
        try fm.createDirectory(at: nfc, withIntermediateDirectories: true)
        try fm.createDirectory(at: nfd, withIntermediateDirectories: true)
        try simpleStepCase.write(to: nfd.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let project = try Project.locate(casesRoot: nfc.path, workingDirectory: p.root.path)
        XCTAssertThrowsError(try project.caseFiles([nfd.path])) {
            XCTAssertTrue("\($0)".contains("is outside the cases root"), "\($0)")
        }
    }

    /// `rnnspec new` and the review's selection take paths on their bytes too: a new case whose name begins
    /// with a combining mark is written where it was asked for, a path into the cases root's NFD twin is not
    /// taken as inside the root (it is read relative to the root, as any path outside it), and a folder
    /// argument selects a pending golden whose name begins with a combining mark.
    @Test func testNewAndReviewTakePathsOnTheirBytes() throws {
        let p = try TempProject()
        let spec = try XCTUnwrap(KernelRegistry.standard.kernel(named: "rnn.step")).spec
        let marked = try p.project.writeSkeleton(kernel: spec, path: "cases/\u{301}x")
        XCTAssertEqual(marked.path, p.root.appendingPathComponent("cases/\u{301}x.yaml").path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: marked.path))
        let fromRoot = try p.project.writeSkeleton(kernel: spec, path: "\u{301}y")
        XCTAssertEqual(fromRoot.path, p.root.appendingPathComponent("cases/\u{301}y.yaml").path)

        let fm = FileManager.default
        let nfc = p.root.appendingPathComponent("caf\u{E9}")
        try fm.createDirectory(at: nfc, withIntermediateDirectories: true)
        let project = try Project.locate(casesRoot: nfc.path, workingDirectory: p.root.path)
        let twin = try project.writeSkeleton(kernel: spec, path: "cafe\u{301}/z")
        XCTAssertEqual(twin.path, nfc.appendingPathComponent("cafe\u{301}/z.yaml").path)
        XCTAssertFalse(fm.fileExists(atPath: nfc.appendingPathComponent("z.yaml").path), "written as if at the root")

        let pending = p.root.appendingPathComponent("golden/d/\u{301}w.yaml" + GoldenStore.pendingSuffix)
        try fm.createDirectory(at: pending.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "pending\n".write(to: pending, atomically: true, encoding: .utf8)
        let review = Review(project: p.project)
        XCTAssertEqual(try review.select(["d"]), ["d/\u{301}w"])
        XCTAssertEqual(try review.select([p.root.appendingPathComponent("golden/d").path]), ["d/\u{301}w"])
    }
}
