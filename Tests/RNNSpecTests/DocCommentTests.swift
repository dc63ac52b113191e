import Foundation
import TestAssertions
import Testing

/// Every public declaration of the libraries a package depends on (RNNSpec, RNNKernels,
/// RNNSpecTesting) has a `///` comment right above it (attributes such as `@inlinable` may stand
/// between). Exempt: members that implement a documented protocol requirement, which DocC shows
/// with the requirement's comment (`description`, `==`, `<`, `hash(into:)`, `init(stringLiteral:)`,
/// and the `KernelScalar` requirements in `Scalar.swift` and `GemmDispatch.swift`).
@Suite final class DocCommentTests {
    @Test func testEveryPublicDeclarationHasADocComment() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let exemptFiles: Set<String> = ["Scalar.swift", "GemmDispatch.swift"]
        let exemptNames = [
            "var description:", "static func ==", "static func <", "func hash(into", "init(stringLiteral",
        ]
        let declaration = try NSRegularExpression(pattern: #"^(@\w+(\([^)]*\))?\s+)*(public|open)\s"#)
        var missing: [String] = []
        var checked = 0
        for module in ["RNNSpec", "RNNKernels", "RNNSpecTesting"] {
            let dir = root.appendingPathComponent("Sources/\(module)")
            let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!
                .compactMap { $0 as? URL }.filter {
                    $0.pathExtension == "swift" && !exemptFiles.contains($0.lastPathComponent)
                }
            for file in files.sorted(by: { $0.path < $1.path }) {
                let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
                for (k, raw) in lines.enumerated() {
                    let line = raw.trimmingCharacters(in: .whitespaces)
                    guard declaration.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil,
                        !line.hasPrefix("public import"), !exemptNames.contains(where: line.contains)
                    else { continue }
                    checked += 1
                    var above = k - 1
                    while above >= 0, lines[above].trimmingCharacters(in: .whitespaces).hasPrefix("@") { above -= 1 }
                    let previous = above >= 0 ? lines[above].trimmingCharacters(in: .whitespaces) : ""
                    if !previous.hasPrefix("///") && !previous.hasSuffix("*/") {
                        missing.append("\(module)/\(file.lastPathComponent):\(k + 1): \(line.prefix(100))")
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 500, "the scan found the public declarations")
        XCTAssertEqual(missing, [], "public declarations without a doc comment:\n" + missing.joined(separator: "\n"))
    }
}
