import Foundation
import TestAssertions
import Testing

/// rnnspec's kernel adapters are called through `Kernel.run<T>`, a generic protocol requirement, so
/// their bodies run unspecialized unless each one asks for its Float and Double versions with
/// `@_specialize`: the generic entry then checks T and jumps to the specialized body. Without it a
/// worker spent a third of its instructions looking up generic metadata (`docs/performance.md`,
/// "Runner"). This scan fails on an adapter that lacks either attribute.
@Suite final class KernelSpecializationTests {
    static let runDeclaration = try! NSRegularExpression(pattern: #"^\s*(public )?func run<T: KernelScalar>\("#)

    /// The adapters' `run` declarations in `text` that are not directly preceded by both attributes,
    /// as 1-based line numbers.
    static func unspecialized(_ text: String) -> [Int] {
        let lines = text.components(separatedBy: "\n")
        var missing: [Int] = []
        for (i, line) in lines.enumerated()
        where runDeclaration.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil {
            let before = Set(lines[max(0, i - 2)..<i].map { $0.trimmingCharacters(in: .whitespaces) })
            if !before.isSuperset(of: ["@_specialize(where T == Float)", "@_specialize(where T == Double)"]) {
                missing.append(i + 1)
            }
        }
        return missing
    }

    @Test func testEveryKernelAdapterIsSpecializedForFloatAndDouble() throws {
        let kernels = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/RNNSpec/Kernels")
        let files = try FileManager.default.contentsOfDirectory(at: kernels, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "swift" }
        var declarations = 0
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            declarations += text.components(separatedBy: "func run<T: KernelScalar>(").count - 1
            for line in Self.unspecialized(text) {
                Issue.record(
                    "\(file.lastPathComponent):\(line): a kernel adapter's run<T> without @_specialize for Float and Double"
                )
            }
        }
        // The scan read the adapters (36 when this test was written).
        XCTAssertGreaterThanOrEqual(declarations, 30)
    }

    @Test func testTheScanFindsAnAdapterWithoutItsAttributes() {
        let specialized = """
                @_specialize(where T == Float)
                @_specialize(where T == Double)
                func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type) throws -> KernelOutputs {
            """
        XCTAssertEqual(Self.unspecialized(specialized), [])
        XCTAssertEqual(Self.unspecialized("    func run<T: KernelScalar>(_ c: KernelContext, as _: T.Type)"), [1])
        XCTAssertEqual(
            Self.unspecialized(
                "    @_specialize(where T == Double)\n    public func run<T: KernelScalar>(_ c: KernelContext)"), [2])
    }
}
