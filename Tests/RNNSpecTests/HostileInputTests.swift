import Foundation
import XCTest
@testable import RNNSpec

/// Hostile case files and goldens: refused quickly, with a located message, never a hang.
final class HostileInputTests: XCTestCase {
    /// The classic "billion laughs": nine levels of ten aliases each.
    static let billionLaughs: String = {
        var text = "kernel: rnn.step\nnotes: &l0 \"lol\"\n"
        for level in 1...9 {
            text += "n\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        return text + "inputs:\n  x: *l9\n"
    }()

    func testAliasBombIsRefusedQuickly() throws {
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError(Self.billionLaughs)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(error, """
            cases/c.yaml:2:8: error: an anchor (&name): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out
            notes: &l0 "lol"
                   ^
            """)
    }

    func testAliasAsAMappingKeyIsRefusedBeforeComposing() throws {
        // Yams hashes mapping keys while composing: an aliased key would be hashed in full.
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError("kernel: rnn.step\n? *big\n: 1\n")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(error, """
            cases/c.yaml:2:3: error: an alias (*name): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out
            ? *big
              ^
            """)
    }

    func testAliasBombInAGoldenIsUnresolvedQuickly() throws {
        let p = try TempProject()
        try p.writeCase("step", simpleStepCase)
        _ = try p.run(record: .all)
        try FileManager.default.createDirectory(at: p.goldenURL("step").deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.billionLaughs.write(to: p.goldenURL("step"), atomically: true, encoding: .utf8)
        let start = Date()
        let r = try p.result("step")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(r.status, .unresolved)
        XCTAssertEqual("\(r.error!)", """
            golden/step.yaml:2:8: error: an anchor (&name): anchors and aliases are not allowed in rnnspec files (they can expand to billions of values); write the values out
            notes: &l0 "lol"
                   ^
            """)
        // regen replaces it.
        XCTAssertEqual(try p.result("step", record: .failed).status, .pass)
        XCTAssertEqual(try p.result("step").status, .pass)
    }

    func testDeepBlockNestingIsRefusedQuickly() throws {
        // `- - - 1` nests block sequences without a single bracket.
        let deep = "kernel: rnn.step\ninputs:\n  x:\n    " + String(repeating: "- ", count: 100_000) + "1\n"
        let p = try TempProject()
        let start = Date()
        let error = try p.loadError(deep)
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertEqual(error.components(separatedBy: "\n")[0], "cases/c.yaml:4:129: error: nesting deeper than 64 levels; rnnspec files hold tensors of a few dimensions")
    }
}
