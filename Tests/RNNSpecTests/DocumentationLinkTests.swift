import Foundation
import TestAssertions
import Testing

/// The README and the pages under `docs/` link each other: every relative link names a file that exists,
/// and every `#anchor` names a heading of the page it points into (as GitHub spells heading anchors).
@Suite final class DocumentationLinkTests {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `README.md` and every `docs/*.md`, as paths relative to the repository's root.
    func documents() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return ["README.md"] + docs
    }

    func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func testEveryRelativeLinkAndAnchorResolves() throws {
        var problems: [String] = []
        var checked = 0
        for document in try documents() {
            for target in DocumentationLinks.targets(in: try text(document))
            where !DocumentationLinks.isExternal(target) {
                checked += 1
                if let problem = try resolve(target, from: document) { problems.append("\(document): \(problem)") }
            }
        }
        XCTAssertGreaterThan(checked, 50, "the README and docs/ link each other")
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
    }

    /// Every page under `docs/` is one click from the README.
    @Test func testEveryDocsPageIsLinkedFromTheReadme() throws {
        let linked = Set(
            DocumentationLinks.targets(in: try text("README.md"))
                .map { String($0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]) })
        for page in try documents().dropFirst() {
            XCTAssertTrue(linked.contains(page), "README.md does not link \(page)")
        }
    }

    /// The checker itself: GitHub's anchors for headings with code, punctuation and repeats, links inside
    /// code are not links, and a broken link and anchor are found.
    @Test func testTheCheckerSpellsAnchorsAsGitHubAndFindsBrokenLinks() throws {
        XCTAssertEqual(
            DocumentationLinks.anchor("Checking another implementation (`--backend`)"),
            "checking-another-implementation---backend")
        XCTAssertEqual(
            DocumentationLinks.anchor("Training the article's model (`charrnn.train`)"),
            "training-the-articles-model-charrnntrain")
        XCTAssertEqual(
            DocumentationLinks.anchor("Framework conventions: PyTorch, ONNX, Keras, Flax, MLX"),
            "framework-conventions-pytorch-onnx-keras-flax-mlx")
        let page = """
            # Title
            ## Part
            ## Part
            See [part](#part), [again](#part-1), [nothing](#missing) and [a page](no-such-page.md).
            `[in code](#not-a-link)`
            ```
            [in a block](#not-a-link-either)
            ```
            """
        XCTAssertEqual(DocumentationLinks.anchors(in: page), ["title", "part", "part-1"])
        XCTAssertEqual(DocumentationLinks.targets(in: page), ["#part", "#part-1", "#missing", "no-such-page.md"])
        XCTAssertNil(try resolve("#part-1", from: "docs/x.md", text: page))
        XCTAssertEqual(try resolve("#missing", from: "docs/x.md", text: page), "no heading for #missing in docs/x.md")
        XCTAssertEqual(
            try resolve("no-such-page.md", from: "docs/x.md", text: page), "no such file: docs/no-such-page.md")
    }

    /// nil when `target` (a link in `document`) resolves, else what is wrong. `text` is the document's own
    /// text, for a link to an anchor of the same page.
    func resolve(_ target: String, from document: String, text: String? = nil) throws -> String? {
        let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let directory = (document as NSString).deletingLastPathComponent
        let path =
            parts[0].isEmpty
            ? document : ((directory as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
        let url = root.appendingPathComponent(path)
        let pageText: String
        if parts[0].isEmpty, let text {
            pageText = text
        } else {
            guard FileManager.default.fileExists(atPath: url.path) else { return "no such file: \(path)" }
            guard parts.count == 2, path.hasSuffix(".md") else { return nil }
            pageText = try String(contentsOf: url, encoding: .utf8)
        }
        guard parts.count == 2 else { return nil }
        return DocumentationLinks.anchors(in: pageText).contains(parts[1])
            ? nil : "no heading for #\(parts[1]) in \(path)"
    }
}

/// Markdown links and GitHub's heading anchors, as much of them as the README and docs/ use.
enum DocumentationLinks {
    /// The target of every `[text](target)` and `![alt](target)` outside code blocks and code spans.
    static func targets(in text: String) -> [String] {
        var targets: [String] = []
        for line in proseLines(text) {
            let prose = line.replacing(#/`[^`]*`/#, with: "")
            for match in prose.matches(of: #/\]\(([^)\s]+)\)/#) { targets.append(String(match.output.1)) }
        }
        return targets
    }

    /// The anchors of the page's headings: GitHub's spelling, with `-1`, `-2`, ... for repeats.
    static func anchors(in text: String) -> [String] {
        var seen: [String: Int] = [:]
        var anchors: [String] = []
        for line in proseLines(text) {
            guard let match = line.wholeMatch(of: #/#{1,6} (.*)/#) else { continue }
            let base = anchor(String(match.output.1))
            let count = seen[base, default: 0]
            seen[base] = count + 1
            anchors.append(count == 0 ? base : "\(base)-\(count)")
        }
        return anchors
    }

    /// GitHub's anchor of a heading: lower case, link targets dropped, everything but letters, marks, digits,
    /// `_`, `-` and spaces removed, spaces made `-`.
    static func anchor(_ heading: String) -> String {
        let text = heading.replacing(#/\[([^\]]*)\]\([^)]*\)/#) { String($0.output.1) }.lowercased()
        var out = ""
        for scalar in text.trimmingCharacters(in: .whitespaces).unicodeScalars {
            let p = scalar.properties
            if p.isAlphabetic || p.generalCategory == .decimalNumber || p.generalCategory == .nonspacingMark
                || scalar == "_" || scalar == "-"
            {
                out.unicodeScalars.append(scalar)
            } else if scalar == " " {
                out += "-"
            }
        }
        return out
    }

    static func isExternal(_ target: String) -> Bool { target.contains(#/^[a-z]+:/#) }

    /// The lines outside fenced code blocks.
    static func proseLines(_ text: String) -> [String] {
        var inFence = false
        var lines: [String] = []
        for line in text.components(separatedBy: "\n") {
            if line.hasPrefix("```") {
                inFence.toggle()
            } else if !inFence {
                lines.append(line)
            }
        }
        return lines
    }
}
